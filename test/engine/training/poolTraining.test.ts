import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isAppError } from '@common/errors'
import { EnginePool } from '@main/engine/pool/pool'
import { artifactsRef, loadModelFromArtifacts, modelToArtifacts } from '@main/engine/pool/modelCache'
import type { SegmentationData } from '@main/engine/training/data'
import { trainDataParallel } from '@main/engine/training/parallel'
import { evaluate, LocalEngine, trainModel, type TrainProgress } from '@main/engine/training/trainer'
import { maxAbsDiff, randomArray, tinySegmenter, useCpuBackend } from '../pool/helpers'

function thresholdTask(n: number, seed: number): SegmentationData {
  const images = randomArray(n * 64, seed)
  const labels = new Int32Array(images.length)
  // A border of ignored pixels exercises the ignore label across workers too.
  for (let i = 0; i < images.length; i++) labels[i] = i % 8 === 0 ? 255 : images[i] > 0.5 ? 1 : 0
  return { images, labels, shape: [n, 8, 8, 1] }
}

describe('training in the worker pool', () => {
  let pool: EnginePool
  let dir: string
  beforeAll(async () => {
    await useCpuBackend()
    dir = mkdtempSync(join(tmpdir(), 'ctxlens-pooltrain-'))
    pool = await EnginePool.create(2, { backend: 'cpu' })
  })
  afterAll(async () => {
    await pool?.dispose()
    rmSync(dir, { recursive: true, force: true })
  })

  it("the 'train' task trains in a worker, reports batch and epoch progress, and returns a model that learned", async () => {
    const model = tinySegmenter({ k: 2, seed: 3 })
    const events: TrainProgress[] = []
    const data = thresholdTask(40, 1)
    const r = await pool.run(
      { type: 'train', payload: { model: artifactsRef(await modelToArtifacts(model)), data, options: { epochs: 10, batchSize: 8, learningRate: 0.05, validationSplit: 0.2 } } },
      { onProgress: (p) => events.push(p) }
    )
    expect(events.filter((e) => e.kind === 'batch')).toHaveLength(40)
    expect(events.filter((e) => e.kind === 'epoch').map((e) => (e.kind === 'epoch' ? e.metrics.epoch : -1))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(r.history[9].valPixelAccuracy!).toBeGreaterThan(0.95)
    // The returned model, evaluated here independently of the worker, has learned the task.
    const trained = await loadModelFromArtifacts(r.artifacts!)
    const test = thresholdTask(8, 77)
    const engine = new LocalEngine(trained, {}, 255)
    const m = await evaluate(engine, test, Array.from({ length: 8 }, (_, i) => i), { ignoreLabel: 255, numClasses: 2, batchSize: 8 })
    expect(m.pixelAccuracy).toBeGreaterThan(0.95)
    engine.dispose()
    trained.dispose()
    model.dispose()
  })

  it('cancelling a training task rejects it with CANCELLED', async () => {
    const model = tinySegmenter({ k: 2, seed: 3 })
    const controller = new AbortController()
    const err = await pool
      .run(
        { type: 'train', payload: { model: artifactsRef(await modelToArtifacts(model)), data: thresholdTask(16, 2), options: { epochs: 1000, batchSize: 4 } } },
        {
          signal: controller.signal,
          onProgress: (p) => {
            if (p.kind === 'batch' && p.step === 3) controller.abort()
          }
        }
      )
      .catch((e: unknown) => e)
    expect(isAppError(err, 'CANCELLED')).toBe(true)
    model.dispose()
  })

  it('data-parallel training over two workers matches in-process training of the same batches', async () => {
    const data = thresholdTask(24, 5)
    const options = { epochs: 2, batchSize: 8, learningRate: 0.01, seed: 4, validationSplit: 0.25 }
    const reference = tinySegmenter({ k: 2, seed: 21 })
    const artifacts = await modelToArtifacts(reference)
    const local = await trainModel(reference, data, options)
    const parallel = await trainDataParallel(pool, artifactsRef(artifacts), data, options)
    expect(parallel.steps).toBe(local.steps)
    const trained = await loadModelFromArtifacts(parallel.artifacts)
    const a = reference.getWeights().map((t) => t.dataSync())
    const b = trained.getWeights().map((t) => t.dataSync())
    for (let i = 0; i < a.length; i++) expect(maxAbsDiff(a[i], b[i])).toBeLessThan(1e-4)
    expect(parallel.history[1].valLoss!).toBeCloseTo(local.history[1].valLoss!, 4)
    expect(parallel.history[1].trainPixelAccuracy).toBeCloseTo(local.history[1].trainPixelAccuracy, 2)
    reference.dispose()
    trained.dispose()
  })

  it('data-parallel checkpoint + resume (with batch norm) equals the uninterrupted data-parallel run', async () => {
    const data = thresholdTask(24, 6)
    const options = { epochs: 2, batchSize: 8, learningRate: 0.01, seed: 2 }
    const model = tinySegmenter({ k: 2, seed: 31, batchNorm: true })
    const ref = artifactsRef(await modelToArtifacts(model))
    const full = await trainDataParallel(pool, ref, data, options)
    const ckDir = join(dir, 'pck')
    const part = await trainDataParallel(pool, ref, data, { ...options, maxSteps: 4, checkpointDir: ckDir })
    expect(part.steps).toBe(4)
    const rest = await trainDataParallel(pool, ref, data, options, { resumeFrom: ckDir })
    expect(rest.resumedFrom).toEqual({ step: 4, epoch: 1, batch: 1 })
    const a = await loadModelFromArtifacts(full.artifacts)
    const b = await loadModelFromArtifacts(rest.artifacts)
    const wa = a.getWeights().map((t) => t.dataSync())
    const wb = b.getWeights().map((t) => t.dataSync())
    for (let i = 0; i < wa.length; i++) expect(maxAbsDiff(wa[i], wb[i])).toBeLessThan(1e-5)
    for (const m of [model, a, b]) m.dispose()
  })
})
