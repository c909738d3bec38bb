import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditJobParams } from '../../src/common/audit'
import { saliencyParams } from '../../src/common/saliency'
import { STATS_CSV_COLUMNS, parseCsv } from '../../src/main/audit/export'
import { tempDir } from '../helpers/tempdir'
import { RGB_CLASSES, saveChannelModel, writeFolderDataset } from './fixtures/data'
import { services } from './helpers'

/**
 * Statistics through the contract on stored explanations made by hand (no optimisation involved), and their CSV
 * and JSON exports read back.
 */
const dir = tempDir()
const { ctx, call } = services()
const S = 16
let jobId = 0

const square = (x0: number, y0: number, s: number, value = 1): Float32Array => {
  const m = new Float32Array(S * S)
  for (let y = y0; y < y0 + s; y++) for (let x = x0; x < x0 + s; x++) m[y * S + x] = value
  return m
}

beforeAll(async () => {
  // GT: class 1 (green) on a 4×4 square at (10, 10), class 0 elsewhere.
  const label = new Uint8Array(S * S)
  square(10, 10, 4).forEach((v, i) => (label[i] = v))
  await writeFolderDataset(join(dir.path, 'data'), S, S, [{ name: 'only', rgb: new Uint8Array(S * S * 3), label }])
  await saveChannelModel(join(dir.path, 'model'), S, S)
  await call('project:create', { path: join(dir.path, 'p.ctxlens') })
  const datasetId = (await call('datasets:import', { root: join(dir.path, 'data'), format: 'folder' })).dataset.id
  const model = await call('models:add', { dir: join(dir.path, 'model') })
  const project = ctx.requireProject()
  const image = project.datasets.images(datasetId)[0]
  const request = Uint8Array.from(square(2, 2, 4))
  const [segA, segB] = project.segments.insertMany([
    { imageId: image.id, modelId: model.id, source: 'gt-and-predicted', gtClass: 0, predClass: 2, kind: 'misclassified', area: 16, bbox: [2, 2, 4, 4], mask: request },
    { imageId: image.id, modelId: model.id, source: 'gt-and-predicted', gtClass: 0, predClass: 2, kind: 'misclassified', area: 16, bbox: [2, 2, 4, 4], mask: request }
  ])
  const params: AuditJobParams = {
    datasetId,
    modelId: model.id,
    split: null,
    modelDir: model.dir,
    saliency: saliencyParams('context'),
    preset: 'synthetic',
    selection: { classes: null, kinds: ['misclassified'], minArea: 1, sampleSize: null, samplePerPair: null, seed: 0 },
    batchSize: 1
  }
  const job = project.jobs.create('audit', params, ['segment:a', 'segment:b'])
  jobId = job.id
  const store = (key: string, segmentId: number, saliency: Float32Array, h: number, w: number) =>
    project.jobs.completeItem(job.id, key, () =>
      project.explanations.insert({
        imageId: image.id,
        modelId: model.id,
        segmentId,
        jobId: job.id,
        jobItemKey: key,
        method: 'context',
        classId: 2,
        request,
        params: {},
        // At image resolution the half-pixel bilinear upsampling is the identity, so the values land exactly.
        saliency,
        saliencyHeight: h,
        saliencyWidth: w,
        summary: { kind: 'misclassified', gtClass: 0, predClass: 2 }
      })
    )
  // A: saliency 1 exactly on the green square. B: a flat 4×4 mask of 0.5 (constant after upsampling).
  store('segment:a', segA, square(10, 10, 4), S, S)
  store('segment:b', segB, new Float32Array(16).fill(0.5), 4, 4)
  project.jobs.setState(job.id, 'done')
})
afterAll(() => {
  ctx.dispose()
  dir.cleanup()
})

describe('audit statistics through the contract', () => {
  it('gives the hand-computed shares, baseline and densities', async () => {
    const stats = await call('audit:stats', { jobId, contourRadius: 1, context: 'outside-request', bootstrap: { samples: 50 } })
    expect(stats.explanations).toBe(2)
    const red = stats.perClass.find((p) => p.classId === 0)!
    const ctxOf = (id: number) => red.context.find((c) => c.classId === id)!
    // Context = 240 px: 224 of class 0, 16 of class 1. Mass: A puts 16 on class 1; B 0.5 everywhere → 112 + 8.
    expect(ctxOf(1).share).toBeCloseTo(24 / 136, 6)
    expect(ctxOf(0).share).toBeCloseTo(112 / 136, 6)
    expect(ctxOf(2).share).toBe(0)
    // The radius-1 ring around the request lies on class 0 only (16 px per explanation).
    expect(ctxOf(0).baselineShare).toBe(1)
    expect(ctxOf(0).pixels).toBe(448)
    expect(ctxOf(1).density).toBeCloseTo(24 / 32, 6)
    expect(ctxOf(0).density).toBeCloseTo(112 / 448, 6)
    expect(ctxOf(1).densityRatio).toBeCloseTo(24 / 32 / (136 / 480), 6)
    expect(stats.table1).toEqual([
      expect.objectContaining({ gtName: 'red', predName: 'blue', kind: 'misclassified', explanations: 2, shares: { '0': 112 / 136, '1': 24 / 136, '2': 0 } })
    ])
    expect(stats.classes).toEqual(RGB_CLASSES)
  })

  it('by default leaves the requested object (its GT class connected to the request) out of the context', async () => {
    const stats = await call('audit:stats', { jobId, contourRadius: 1, bootstrap: { samples: 50 } })
    expect(stats.options.context).toBe('outside-object')
    const red = stats.perClass.find((p) => p.classId === 0)!
    // The requests' GT class 0 covers everything but the green square, all connected: it is the object. What is
    // left as context is green alone; B's 0.5 over the 224 object pixels (112) is the object's share of 136.
    expect(red.context.find((c) => c.classId === 1)!.share).toBeCloseTo(1, 6)
    expect(red.context.find((c) => c.classId === 0)!.pixels).toBe(0)
    expect(red.objectShare).toBeCloseTo(112 / 136, 6)
  })

  it('exports CSV that parses back to the same numbers, and JSON equal to the answer', async () => {
    const options = { jobId, contourRadius: 1, context: 'outside-request' as const, bootstrap: { samples: 50 } }
    const stats = await call('audit:stats', options)
    const csv = await call('audit:exportStats', { ...options, format: 'csv', path: dir.file('stats.csv') })
    const rows = parseCsv(readFileSync(csv.path, 'utf8'))
    expect(rows[0]).toEqual([...STATS_CSV_COLUMNS])
    expect(rows.slice(1).every((r) => r.length === STATS_CSV_COLUMNS.length)).toBe(true)
    const col = (name: (typeof STATS_CSV_COLUMNS)[number]) => STATS_CSV_COLUMNS.indexOf(name)
    const green = rows.find((r) => r[col('section')] === 'context' && r[col('requested_class')] === 'red' && r[col('context_class')] === 'green')!
    expect(Number(green[col('share')])).toBeCloseTo(24 / 136, 12)
    expect(Number(green[col('density')])).toBeCloseTo(0.75, 6)
    expect(rows.filter((r) => r[col('section')] === 'table1')).toHaveLength(3)
    expect(rows.filter((r) => r[col('section')] === 'object').map((r) => r[col('requested_class')])).toEqual(['red'])
    // Quoting survives: a name with a comma and quotes round-trips.
    expect(parseCsv('a,"b, ""c""",d\n')).toEqual([['a', 'b, "c"', 'd']])

    const json = await call('audit:exportStats', { ...options, format: 'json', path: dir.file('stats.json') })
    expect(JSON.parse(readFileSync(json.path, 'utf8'))).toEqual(JSON.parse(JSON.stringify(stats)))
  })
})
