import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isAppError } from '@common/errors'
import { saliencyParams, type SaliencyResult } from '@common/saliency'
import { saveModel } from '@main/engine/modelFiles'
import { openSegmentationModel } from '@main/engine/openModel'
import { EnginePool } from '@main/engine/pool/pool'
import { engineHandlerModules } from '@main/engineHandlers'
import { computeSaliency, type SaliencyRequest } from '@main/saliency'
import { maxAbsDiff, randomArray, tinySegmenter, useCpuBackend } from './helpers'

/**
 * The runtime seam from the pool's side: the engine knows no saliency task of its own; the handler module
 * registered in src/main/engineHandlers.ts brings it, opens its model through TaskContext.openModel, and computes
 * in the workers exactly what computeSaliency computes on the same model in this thread.
 */
describe('handler modules registered with the engine', () => {
  let dir: string
  let model: tf.LayersModel
  let bare: EnginePool
  let pool: EnginePool

  beforeAll(async () => {
    await useCpuBackend()
    dir = mkdtempSync(join(tmpdir(), 'ctxlens-registered-'))
    model = tinySegmenter({ k: 3 })
    await saveModel(model, dir, {
      name: 'tiny',
      classes: [0, 1, 2].map((k) => ({ id: k, name: `class ${k}`, color: [k * 80, 0, 0] as [number, number, number] })),
      ignoreId: 255,
      input: { height: 8, width: 8, channels: 1 },
      normalisation: { kind: 'range', min: 0, max: 1 },
      architecture: 'test'
    })
    ;[bare, pool] = await Promise.all([EnginePool.create(1, { backend: 'cpu' }), EnginePool.create(2, { backend: 'cpu', handlerModules: engineHandlerModules() })])
  })
  afterAll(async () => {
    await Promise.all([bare?.dispose(), pool?.dispose()])
    model?.dispose()
    rmSync(dir, { recursive: true, force: true })
  })

  it('the engine alone has no saliency task; with the registered modules every worker has it', async () => {
    expect(bare.handlerTypes()).toEqual(expect.arrayContaining(['predict', 'labels', 'probabilities']))
    expect(bare.handlerTypes()).not.toContain('saliency')
    const err = await bare.run({ type: 'saliency', payload: { modelDir: dir, requests: [], params: saliencyParams('grid') } }).catch((e: unknown) => e)
    expect(isAppError(err, 'UNKNOWN_METHOD')).toBe(true)
    expect(pool.handlerTypes()).toEqual(expect.arrayContaining(['predict', 'labels', 'saliency']))
  })

  it('grid saliency split over two workers equals computeSaliency on the same model in this thread', async () => {
    const requests: SaliencyRequest[] = [0, 1, 2, 3].map((i) => ({
      id: `r${i}`,
      image: { data: randomArray(64, 11 + i), height: 8, width: 8, channels: 1 },
      request: Uint8Array.from({ length: 64 }, (_, p) => (p % 8 < 4 + (i % 2) && Math.floor(p / 8) < 4 ? 1 : 0)),
      classId: i % 3
    }))
    const params = saliencyParams('grid', 'synthetic', { steps: 12 })
    const opened = await openSegmentationModel(dir)
    let expected: SaliencyResult[]
    try {
      expected = await computeSaliency(opened, requests, params)
    } finally {
      opened.dispose()
    }
    const shares = await pool.split<SaliencyResult[]>('saliency', requests.length, (r) => ({
      payload: { modelDir: dir, requests: requests.slice(r.start, r.end), params }
    }))
    expect(shares).toHaveLength(2)
    const got = shares.flat()
    expect(got.map((r) => r.id)).toEqual(['r0', 'r1', 'r2', 'r3'])
    // Different answers, so equality below is not that of untouched initial masks.
    expect(new Set(got.map((r) => Array.from(r.mask).join(','))).size).toBeGreaterThan(1)
    for (const [i, r] of got.entries()) {
      expect(r.mask.length).toBe(expected[i].mask.length)
      expect(maxAbsDiff(r.mask, expected[i].mask)).toBeLessThan(1e-5)
      expect(r.scoreOriginal).toBeCloseTo(expected[i].scoreOriginal, 5)
    }
  })
})
