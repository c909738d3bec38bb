import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STREET_CLASS, STREET_SCENE_CLASSES } from '../../src/common/streetScenes'
import { parseStreetScenesSpec } from '../../src/main/datasets/streetScenes'
import { demoDatasetDir } from '../../src/main/audit/demo'
import { tempDir } from '../helpers/tempdir'
import { saveConvModel } from './fixtures/data'
import { services } from './helpers'

/**
 * The demo project's assembly with a stand-in model (the trained one lands in resources/demo-model): generated
 * street scenes at the model's size, imported, predicted, segmented, and audited on riders and persons; a second
 * run reuses every step.
 */
const dir = tempDir()
const previousHome = process.env.CTXLENS_HOME
process.env.CTXLENS_HOME = dir.path
const { ctx, call } = services()
const modelDir = dir.file('demo-model')

beforeAll(async () => {
  await saveConvModel(modelDir, 32, 64, STREET_SCENE_CLASSES)
})
afterAll(() => {
  ctx.dispose()
  if (previousHome === undefined) delete process.env.CTXLENS_HOME
  else process.env.CTXLENS_HOME = previousHome
  dir.cleanup()
})

describe('ctxlens demo', () => {
  it('builds the demo project and a second run reuses it', async () => {
    const input = { modelDir, images: 4, sampleSize: 5, params: { steps: 2 } }
    const phases: { message?: string; total: number; jobId?: number }[] = []
    const unsubscribe = ctx.events.subscribe((e) => e.event === 'task:progress' && e.payload.state === 'running' && phases.push(e.payload))
    const first = await call('audit:demo', input)
    unsubscribe()
    // The audit phase names its job (the CLI shows that one bar, from job:progress); the other phases do not.
    const audit = phases.filter((p) => p.message === 'audit')
    expect(audit.length).toBeGreaterThan(0)
    for (const p of audit) expect(p.jobId).toBe(first.job.id)
    expect(phases.filter((p) => p.message !== 'audit' && p.jobId !== undefined)).toEqual([])
    expect(first.projectPath).toBe(join(dir.path, 'projects', 'demo.ctxlens'))
    expect(existsSync(join(first.datasetDir, 'dataset.json'))).toBe(true)
    expect(first.datasetDir).toBe(demoDatasetDir(parseStreetScenesSpec({ height: 32, width: 64, seed: 20191, counts: { train: 0, val: 0, test: 4 } })))
    expect(first.predict.predicted).toBe(4)
    expect(first.job.state).toBe('done')
    expect(first.job.total).toBeGreaterThan(0)
    expect(first.job.done + first.job.failed).toBe(first.job.total)

    const project = ctx.requireProject()
    const explanations = project.explanations.forJob(first.job.id)
    expect(explanations).toHaveLength(first.job.done)
    for (const e of explanations) {
      // Rider and person regions only, with the preset's own 16×32 mask grid.
      const summary = e.summary as { gtClass: number; kind: string }
      expect([STREET_CLASS.rider, STREET_CLASS.person]).toContain(summary.gtClass)
      expect(['correct', 'misclassified']).toContain(summary.kind)
      expect([e.saliencyHeight, e.saliencyWidth]).toEqual([16, 32])
    }

    const second = await call('audit:demo', input)
    expect(second).toMatchObject({ datasetId: first.datasetId, modelId: first.modelId, job: { id: first.job.id, state: 'done' } })
    expect(second.predict.predicted).toBe(0)
    expect(second.reused).toBe(true)
    expect(first.reused).toBe(false)
    expect(ctx.requireProject().jobs.list()).toHaveLength(1)

    // Other settings never silently get the old audit: refused, naming what differs, until --rebuild.
    const other = await call('audit:demo', { ...input, params: { steps: 3 } }).then(
      () => null,
      (err: unknown) => err as { code: string; message: string }
    )
    expect(other?.code).toBe('CONFLICT')
    expect(other?.message).toContain('steps 2 before, 3 now')
    expect(other?.message).toContain('--rebuild')
    const rebuilt = await call('audit:demo', { ...input, params: { steps: 3 }, rebuild: true })
    expect(rebuilt.reused).toBe(false)
    expect(rebuilt.predict.predicted).toBe(4)
    expect(ctx.requireProject().jobs.list()).toHaveLength(1)
    expect(ctx.requireProject().explanations.forJob(rebuilt.job.id)[0].params).toMatchObject({ steps: 3 })
    // The demo's own settings sit under the overrides: λ 0.003 and lr 3 over the Cityscapes preset.
    expect(ctx.requireProject().explanations.forJob(rebuilt.job.id)[0].params).toMatchObject({ lambda: 0.003, learningRate: 3, maskHeight: 16 })
  })

  it('writes the demo images to a folder named for the generator spec, so another generator version is not reused', () => {
    const spec = (o: Record<string, unknown> = {}) => parseStreetScenesSpec({ height: 32, width: 64, seed: 20191, counts: { train: 0, val: 0, test: 4 }, ...o })
    expect(demoDatasetDir(spec())).toBe(demoDatasetDir(spec()))
    expect(demoDatasetDir(spec())).toMatch(/street-scenes-64x32-seed20191-n4-[0-9a-f]{8}$/)
    // A default of the generator changed (as personOnRoadRate did): another folder.
    expect(demoDatasetDir(spec({ personOnRoadRate: 0.3 }))).not.toBe(demoDatasetDir(spec()))
    expect(demoDatasetDir(spec({ seed: 1 }))).not.toBe(demoDatasetDir(spec()))
  })

  it('--rebuild refuses to delete a project that holds more than the demo', async () => {
    const path = dir.file('mine.ctxlens')
    await call('project:create', { path })
    const project = ctx.requireProject()
    const classSet = project.classSets.create({ name: 'survey', classes: [{ id: 0, name: 'road', color: [128, 64, 128] }] })
    project.datasets.createWithImages({ name: 'My survey', format: 'folder', root: dir.file('survey'), classSetId: classSet.id }, [])
    const err = await call('audit:demo', { modelDir, images: 4, sampleSize: 5, params: { steps: 2 }, projectPath: path, rebuild: true }).then(
      () => null,
      (e: unknown) => e as { code: string; message: string }
    )
    expect(err?.code).toBe('CONFLICT')
    expect(err?.message).toContain('"My survey"')
    expect(existsSync(path)).toBe(true)
  })
})
