import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STREET_CLASS, STREET_SCENE_CLASSES } from '../../src/common/streetScenes'
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
    expect(ctx.requireProject().jobs.list()).toHaveLength(1)
  })
})
