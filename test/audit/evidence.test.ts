import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditJobParams } from '../../src/common/audit'
import { exampleLabel } from '../../src/common/charts'
import { saliencyParams } from '../../src/common/saliency'
import { builtCli } from '../helpers/builtApp'
import { tempDir } from '../helpers/tempdir'
import { pdfToText } from '../report/helpers'
import { saveChannelModel, writeFolderDataset } from './fixtures/data'
import { services } from './helpers'

/**
 * What the statistics rest on, on explanations stored by hand so every figure is known in advance. Each of six
 * images has a blue square (2, 2)–(5, 5), a green square (10, 10)–(13, 13) and red elsewhere.
 * - 24 recovered explanations of correct blue regions (4 per image) put all their saliency on the green square;
 *   8 unrecovered ones (images 0–3) spread theirs evenly: the recovered-only default sees green alone.
 * - 2 explanations of green regions the model took for blue (images 0–1), explaining class blue, put theirs on
 *   the blue square: the audited class is green, the context blue, and 2 explanations are too few for an alert.
 * - Deletion faithfulness: 0.6 and 0.2 on the green regions, 0.9 on the unrecovered blue ones, none on the rest.
 * - A second, cancelled job has explained 1 of its 3 items.
 */
const dir = tempDir()
const { ctx, call } = services()
const S = 16
const IMAGES = 6
let jobId = 0
let partialJobId = 0
const projectFile = dir.file('p.ctxlens')
const cliEntry = builtCli()

const square = (x0: number, y0: number, s: number): Uint8Array => {
  const m = new Uint8Array(S * S)
  for (let y = y0; y < y0 + s; y++) for (let x = x0; x < x0 + s; x++) m[y * S + x] = 1
  return m
}
const BLUE = square(2, 2, 4)
const GREEN = square(10, 10, 4)

beforeAll(async () => {
  const label = new Uint8Array(S * S)
  GREEN.forEach((v, i) => v && (label[i] = 1))
  BLUE.forEach((v, i) => v && (label[i] = 2))
  const images = Array.from({ length: IMAGES }, (_, i) => ({ name: `frame${String(i).padStart(2, '0')}`, rgb: new Uint8Array(S * S * 3), label }))
  await writeFolderDataset(join(dir.path, 'data'), S, S, images)
  await saveChannelModel(join(dir.path, 'model'), S, S)
  await call('project:create', { path: projectFile })
  const datasetId = (await call('datasets:import', { root: join(dir.path, 'data'), format: 'folder' })).dataset.id
  const model = await call('models:add', { dir: join(dir.path, 'model') })
  const project = ctx.requireProject()
  const stored = project.datasets.images(datasetId).sort((a, b) => a.path.localeCompare(b.path))
  const params: AuditJobParams = {
    datasetId,
    modelId: model.id,
    split: null,
    modelDir: model.dir,
    saliency: saliencyParams('context'),
    preset: 'synthetic',
    selection: { classes: null, kinds: ['correct', 'misclassified'], minArea: 1, sampleSize: null, samplePerPair: null, seed: 0 },
    batchSize: 1
  }

  interface Planned {
    image: number
    gt: number
    pred: number
    mask: Uint8Array
    saliency: Float32Array
    recovered: boolean
    faithfulness?: number
  }
  const planned: Planned[] = []
  const onGreen = Float32Array.from(GREEN)
  for (let i = 0; i < IMAGES; i++) for (let k = 0; k < 4; k++) planned.push({ image: i, gt: 2, pred: 2, mask: BLUE, saliency: onGreen, recovered: true })
  for (let i = 0; i < 4; i++) for (let k = 0; k < 2; k++) planned.push({ image: i, gt: 2, pred: 2, mask: BLUE, saliency: new Float32Array(S * S).fill(0.5), recovered: false, faithfulness: 0.9 })
  for (let i = 0; i < 2; i++) planned.push({ image: i, gt: 1, pred: 2, mask: GREEN, saliency: Float32Array.from(BLUE), recovered: true, faithfulness: [0.6, 0.2][i] })

  const segments = project.segments.insertMany(
    planned.map((p) => ({
      imageId: stored[p.image].id,
      modelId: model.id,
      source: 'gt-and-predicted' as const,
      gtClass: p.gt,
      predClass: p.pred,
      kind: p.gt === p.pred ? ('correct' as const) : ('misclassified' as const),
      area: 16,
      bbox: (p.mask === BLUE ? [2, 2, 4, 4] : [10, 10, 4, 4]) as [number, number, number, number],
      mask: p.mask
    }))
  )
  const store = (job: number, key: string, p: Planned, segmentId: number) =>
    project.jobs.completeItem(job, key, () =>
      project.explanations.insert({
        imageId: stored[p.image].id,
        modelId: model.id,
        segmentId,
        jobId: job,
        jobItemKey: key,
        method: 'context',
        // The class explained is what the model predicted there.
        classId: p.pred,
        request: p.mask,
        params: {},
        saliency: p.saliency,
        saliencyHeight: S,
        saliencyWidth: S,
        summary: {
          kind: p.gt === p.pred ? 'correct' : 'misclassified',
          gtClass: p.gt,
          predClass: p.pred,
          recovered: p.recovered,
          ...(p.faithfulness !== undefined ? { faithfulness: { value: p.faithfulness } } : {})
        }
      })
    )
  const keys = segments.map((id) => `segment:${id}`)
  const job = project.jobs.create('audit', params, keys)
  planned.forEach((p, i) => store(job.id, keys[i], p, segments[i]))
  project.jobs.setState(job.id, 'done')
  jobId = job.id

  const partial = project.jobs.create('audit', params, keys.slice(0, 3))
  store(partial.id, keys[0], planned[0], segments[0])
  project.jobs.setState(partial.id, 'cancelled')
  partialJobId = partial.id
})
afterAll(() => {
  ctx.dispose()
  dir.cleanup()
})

const FAST = { bootstrap: { samples: 200 } }

describe('statistics that say what they rest on', () => {
  it('counts recovered explanations only by default, and says how many of how many recovered', async () => {
    const stats = await call('audit:stats', { jobId, ...FAST })
    const blue = stats.perClass.find((c) => c.classId === 2)!
    expect(blue.evidence).toEqual({ explanations: 24, images: 6, total: 32, recovered: 24, notRecovered: 8, recoveryRate: 0.75, faithfulness: { mean: null, n: 0 } })
    // Only the recovered masks count: all their context saliency is on green.
    expect(blue.context.find((c) => c.classId === 1)!.share).toBeCloseTo(1, 9)
    expect(stats.evidence).toMatchObject({ explanations: 26, total: 34, recovered: 26, notRecovered: 8 })
    expect(stats.options.includeUnrecovered).toBe(false)

    const all = await call('audit:stats', { jobId, includeUnrecovered: true, ...FAST })
    const blueAll = all.perClass.find((c) => c.classId === 2)!
    expect(blueAll.evidence).toMatchObject({ explanations: 32, images: 6, recoveryRate: 0.75 })
    // The eight flat masks add 0.5 on each of the 16 green and 224 red context pixels: 24·16 + 8·8 on green of 24·16 + 8·120.
    expect(blueAll.context.find((c) => c.classId === 1)!.share).toBeCloseTo((24 * 16 + 8 * 8) / (24 * 16 + 8 * 120), 9)
    const row = all.table1.find((r) => r.gtClass === 2 && r.predClass === 2)!
    expect(row.evidence).toMatchObject({ explanations: 32, total: 32, notRecovered: 8 })
    expect(stats.table1.find((r) => r.gtClass === 2 && r.predClass === 2)!.explanations).toBe(24)
  })

  it('gives the mean deletion faithfulness of the counted explanations that have one, with its n', async () => {
    const stats = await call('audit:stats', { jobId, ...FAST })
    const green = stats.perClass.find((c) => c.classId === 1)!
    expect(green.evidence.faithfulness!.n).toBe(2)
    expect(green.evidence.faithfulness!.mean).toBeCloseTo(0.4, 9)
    expect(stats.evidence.faithfulness).toMatchObject({ n: 2 })
    // The unrecovered blue explanations are the only blue ones with the figure: it counts only when they do.
    const all = await call('audit:stats', { jobId, includeUnrecovered: true, ...FAST })
    const blueAll = all.perClass.find((c) => c.classId === 2)!.evidence.faithfulness!
    expect(blueAll.n).toBe(8)
    expect(blueAll.mean).toBeCloseTo(0.9, 9)
    expect(all.evidence.faithfulness!.n).toBe(10)
    expect(all.evidence.faithfulness!.mean).toBeCloseTo((0.6 + 0.2 + 8 * 0.9) / 10, 9)
  })

  it('groups requests by their audited class, not the class explained there, and raises no alert of a class on itself', async () => {
    const stats = await call('audit:stats', { jobId, ...FAST })
    // The green regions taken for blue explain class blue, but they are green requests.
    expect(stats.perClass.map((c) => [c.name, c.explanations])).toEqual([
      ['green', 2],
      ['blue', 24]
    ])
    for (const a of [...stats.alerts, ...stats.insufficient]) expect(a.requestedClass).not.toBe(a.contextClass)
  })

  it('raises an alert on enough evidence and lists one below the minimum apart as insufficient', async () => {
    const stats = await call('audit:stats', { jobId, ...FAST })
    const blueOnGreen = stats.alerts.filter((a) => a.requestedName === 'blue' && a.contextName === 'green')
    expect(blueOnGreen.map((a) => a.reason).sort()).toEqual(['density', 'share'])
    for (const a of blueOnGreen) expect(a.evidence).toMatchObject({ explanations: 24, images: 6, recoveryRate: 0.75 })
    // Green on blue clears both thresholds just as clearly, on 2 explanations from 2 images.
    expect(stats.alerts.some((a) => a.requestedName === 'green')).toBe(false)
    const greenOnBlue = stats.insufficient.filter((a) => a.requestedName === 'green' && a.contextName === 'blue')
    expect(greenOnBlue.map((a) => a.reason).sort()).toEqual(['density', 'share'])
    expect(greenOnBlue[0].evidence).toMatchObject({ explanations: 2, images: 2 })

    // The minimum decides: at 25 explanations the blue alerts rest on too little too; at 2 and 2 images, green's count.
    const strict = await call('audit:stats', { jobId, ...FAST, alerts: { minExplanations: 25 } })
    expect(strict.alerts).toEqual([])
    expect(strict.insufficient.filter((a) => a.requestedName === 'blue')).toHaveLength(2)
    const lax = await call('audit:stats', { jobId, ...FAST, alerts: { minExplanations: 2, minImages: 2 } })
    expect(lax.alerts.filter((a) => a.requestedName === 'green' && a.contextName === 'blue')).toHaveLength(2)
    expect(lax.insufficient).toEqual([])
  })

  it('names example images by file name and segments by class and position', async () => {
    const stats = await call('audit:stats', { jobId, ...FAST })
    const alert = stats.alerts.find((a) => a.requestedName === 'blue' && a.reason === 'share')!
    expect(alert.examples).toHaveLength(3)
    for (const e of alert.examples) {
      expect(e.image.name).toMatch(/^frame0\d\.png$/)
      expect(e.segment).toEqual({ className: 'blue', x: 4, y: 4, area: 16 })
      expect(exampleLabel(e)).toMatch(/^frame0\d\.png, blue at \(4, 4\), 16 px$/)
    }
  })

  it('marks the statistics of a cancelled audit as partial, and a finished one not', async () => {
    expect((await call('audit:stats', { jobId, ...FAST })).partial).toBeNull()
    const stats = await call('audit:stats', { jobId: partialJobId, ...FAST })
    expect(stats.partial).toEqual({ state: 'cancelled', done: 1, failed: 0, total: 3 })
  })

  it('prints PARTIAL: n of N items on the title page and in every page footer of a partial audit', async () => {
    const out = dir.file('partial.pdf')
    const result = await call('reports:save', { jobId: partialJobId, path: out, sections: ['alerts', 'classes', 'methods'], ...FAST })
    const pages = pdfToText(out).split('\f').slice(0, result.pages)
    expect(pages.length).toBeGreaterThan(2)
    expect(pages[0]).toContain('PARTIAL: 1 of 3 items')
    pages.slice(1).forEach((p, i) => expect(p, `footer of page ${i + 2}`).toMatch(new RegExp(`PARTIAL: 1 of 3 items.*\\n*.*Page ${i + 2} of ${result.pages}\\s*$`)))

    const finished = dir.file('finished.pdf')
    await call('reports:save', { jobId, path: finished, sections: ['alerts'], ...FAST })
    const text = pdfToText(finished)
    expect(text).not.toContain('PARTIAL')
    // The alert rows name their examples by file and place and say what they rest on; no database ids.
    const flat = pdfToText(finished, 'raw').replace(/\s+/g, ' ')
    expect(flat).toMatch(/blue <- green share .*24 explanations on 6 images; 24 of 32 recovered \(75%\) frame0\d\.png, blue at \(4, 4\), 16 px/)
    expect(flat).toContain('Insufficient evidence')
    expect(flat).toMatch(/green <- blue .*2 explanations on 2 images/)
    expect(flat).not.toMatch(/image \d+ seg/)
  })

  it('ctxlens stats prints n, recovery, insufficient evidence and file names, and takes the evidence flags', async () => {
    ctx.dispose()
    const run = (...args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [cliEntry, 'stats', '--project', projectFile, '--bootstrap', '200', ...args], {
          env: { ...process.env, CTXLENS_BACKEND: 'cpu', CTXLENS_WORKERS: '1', CTXLENS_HOME: dir.path }
        })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
        child.on('exit', (code) => resolve({ code, stdout, stderr }))
      })
    const plain = await run('--job', String(jobId))
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stdout).toContain('blue: 24 explanations on 6 images; 24 of 32 recovered (75%)')
    expect(plain.stdout).toMatch(/blue ← green: share − baseline .*24 explanations on 6 images; 24 of 32 recovered \(75%\)/)
    expect(plain.stdout).toMatch(/examples: frame0\d\.png, blue at \(4, 4\), 16 px/)
    // Below 10 explanations the recovery is a count, not a percentage (issue 17 P16).
    expect(plain.stdout).toContain('green: 2 explanations on 2 images; 2 of 2 recovered; deletion faithfulness 0.40 (mean of 2)')
    expect(plain.stdout).toMatch(/Insufficient evidence \(fewer than 20 explanations or 3 images\)[^]*green ← blue/)
    expect(plain.stdout).not.toMatch(/explanation \d+/)

    const all = await run('--job', String(jobId), '--include-unrecovered', '--min-explanations', '2', '--min-images', '2')
    expect(all.code, all.stderr).toBe(0)
    expect(all.stdout).toContain('blue: 32 explanations on 6 images')
    expect(all.stdout).not.toContain('Insufficient evidence')

    const partial = await run('--job', String(partialJobId))
    expect(partial.stdout.split('\n')[0]).toMatch(/^PARTIAL: 1 of 3 items \(audit cancelled\)/)
  })
})
