import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isAppError } from '@common/errors'
import { EnginePool, splitRanges } from '@main/engine/pool/pool'
import { artifactsRef, modelToArtifacts } from '@main/engine/pool/modelCache'
import { transferables } from '@main/engine/pool/protocol'
import { fsHandler } from '@main/engine/modelFiles/fsHandler'
import type { PredictResult } from '@main/engine/pool/handlers/predict'
import { maxAbsDiff, randomArray, tinySegmenter, useCpuBackend } from './helpers'

const testHandlers = fileURLToPath(new URL('./fixtures/testHandlers.ts', import.meta.url))

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected the promise to reject')
}

describe('EnginePool', () => {
  let pool: EnginePool
  let model: tf.LayersModel

  beforeAll(async () => {
    await useCpuBackend()
    model = tinySegmenter({ k: 3 })
    pool = await EnginePool.create(2, { backend: 'cpu', handlerModules: [testHandlers], cancelGraceMs: 500 })
  })
  afterAll(async () => {
    await pool?.dispose()
    model?.dispose()
  })

  it('starts one backend per worker and knows the built-in and extra handlers', () => {
    expect(pool.size).toBe(2)
    expect(pool.backends().map((b) => b?.name)).toEqual(['cpu', 'cpu'])
    expect(pool.handlerTypes()).toEqual(expect.arrayContaining(['predict', 'inputGradient', 'train', 'test.echo']))
  })

  it('predict over a batch split between two workers equals the in-process prediction, in order', async () => {
    const n = 6
    const shape: [number, number, number, number] = [n, 8, 8, 1]
    const images = randomArray(n * 64, 7)
    const expected = tf.tidy(() => (model.predict(tf.tensor4d(images, shape)) as tf.Tensor).dataSync())
    const expectedArgmax = tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(images, shape)) as tf.Tensor, -1).dataSync())
    const ref = artifactsRef(await modelToArtifacts(model), 'tiny-1')
    const parts = await pool.split<PredictResult>('predict', n, ({ start, end }) => {
      const chunk = images.slice(start * 64, end * 64)
      return { payload: { model: ref, images: chunk, shape: [end - start, 8, 8, 1] }, transfer: transferables(chunk) }
    })
    expect(parts).toHaveLength(2)
    expect(parts.map((p) => p.shape[0])).toEqual([3, 3])
    const probs = parts.flatMap((p) => Array.from(p.probabilities!))
    expect(maxAbsDiff(probs, expected)).toBeLessThan(1e-5)
    expect(parts.flatMap((p) => Array.from(p.argmax!))).toEqual(Array.from(expectedArgmax))
  })

  it('loads a model from a tfjs directory inside the worker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctxlens-pool-'))
    try {
      await model.save(fsHandler(dir))
      const images = randomArray(2 * 64, 9)
      const expected = tf.tidy(() => (model.predict(tf.tensor4d(images, [2, 8, 8, 1])) as tf.Tensor).dataSync())
      const r = await pool.run({ type: 'predict', payload: { model: { kind: 'dir', path: dir }, images, shape: [2, 8, 8, 1], output: 'probabilities' } })
      expect(maxAbsDiff(r.probabilities!, expected)).toBeLessThan(1e-5)
      expect(r.argmax).toBeUndefined()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses a model folder whose weight files do not match model.json, as the main thread does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctxlens-pool-'))
    try {
      const truncated = join(dir, 'truncated')
      await model.save(fsHandler(truncated))
      truncateSync(join(truncated, 'group1-shard1of1.bin'), 8)
      // Complete weights, but outside the folder of the model.json that names them.
      const escaping = join(dir, 'escaping')
      await model.save(fsHandler(escaping))
      await model.save(fsHandler(join(dir, 'elsewhere')))
      const json = JSON.parse(readFileSync(join(escaping, 'model.json'), 'utf8'))
      json.weightsManifest[0].paths = ['../elsewhere/group1-shard1of1.bin']
      writeFileSync(join(escaping, 'model.json'), JSON.stringify(json))
      for (const [path, why] of [
        [truncated, 'holds 8 bytes where 220 are described'],
        [escaping, 'outside the model folder']
      ]) {
        const err = await rejection(
          pool.run({ type: 'predict', payload: { model: { kind: 'dir', path }, images: new Float32Array(64), shape: [1, 8, 8, 1], output: 'argmax' } })
        )
        expect(isAppError(err, 'MODEL_FILE_INVALID')).toBe(true)
        expect((err as Error).message).toContain(why)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('split hands contiguous ranges to both workers and returns them in range order', async () => {
    expect(splitRanges(7, 3)).toEqual([
      { start: 0, end: 3 },
      { start: 3, end: 5 },
      { start: 5, end: 7 }
    ])
    const results = await pool.split<{ start: number; end: number; slot: number }>('test.echo', 10, ({ start, end }) => ({ payload: { start, end } }), {
      parts: 5
    })
    expect(results.map((r) => [r.start, r.end])).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 8],
      [8, 10]
    ])
    expect(new Set(results.map((r) => r.slot))).toEqual(new Set([0, 1]))
  })

  it('transfers typed arrays to the worker instead of copying them', async () => {
    const values = new Float32Array([1, 2, 3, 4])
    const r = await pool.run<{ sum: number; length: number }>({ type: 'test.sum', payload: { values }, transfer: transferables(values) })
    expect(r).toEqual({ sum: 10, length: 4 })
    expect(values.byteLength).toBe(0) // detached: the buffer moved
  })

  it('reports progress events in order', async () => {
    const ref = artifactsRef(await modelToArtifacts(model), 'tiny-1')
    const seen: number[] = []
    await pool.run({ type: 'predict', payload: { model: ref, images: randomArray(4 * 64, 3), shape: [4, 8, 8, 1], batchSize: 1 } }, {
      onProgress: (p) => seen.push(p.done)
    })
    expect(seen).toEqual([1, 2, 3, 4])
  })

  it('inputGradient equals the in-process gradient of the request score', async () => {
    const n = 3
    const shape: [number, number, number, number] = [n, 8, 8, 1]
    const images = randomArray(n * 64, 11)
    const masks = new Float32Array(n * 64)
    for (let i = 0; i < n; i++) for (let j = 0; j < 20; j++) masks[i * 64 + ((j * 7 + i) % 64)] = 1
    const classIds = [0, 1, 2]
    const expected = tf.tidy(() => {
      const f = (x: tf.Tensor): tf.Scalar => {
        const probs = model.apply(x) as tf.Tensor4D
        const per = classIds.map((c, i) => {
          const fc = probs.slice([i, 0, 0, c], [1, 8, 8, 1]).reshape([64])
          const m = tf.tensor1d(masks.subarray(i * 64, (i + 1) * 64))
          return tf.div(tf.sum(tf.mul(fc, m)), tf.sum(m))
        })
        return tf.addN(per) as tf.Scalar
      }
      return tf.grad(f)(tf.tensor4d(images, shape)).dataSync()
    })
    const r = await pool.run({
      type: 'inputGradient',
      payload: { model: artifactsRef(await modelToArtifacts(model)), images, shape, masks, classIds, batchSize: 2 }
    })
    expect(maxAbsDiff(r.gradients, expected)).toBeLessThan(1e-5)
    expect(r.scores).toHaveLength(3)
  })

  it('rejects an unknown task type with UNKNOWN_METHOD', async () => {
    const err = await rejection(pool.run({ type: 'no.such.task', payload: null }))
    expect(isAppError(err, 'UNKNOWN_METHOD')).toBe(true)
  })

  it('cancel stops a long cooperative task with CANCELLED, and the worker is reused', async () => {
    const controller = new AbortController()
    let ticks = 0
    const started = Date.now()
    const err = await rejection(
      pool.run({ type: 'test.loop', payload: null }, {
        signal: controller.signal,
        onProgress: () => {
          if (++ticks === 3) controller.abort()
        }
      })
    )
    expect(isAppError(err, 'CANCELLED')).toBe(true)
    expect(Date.now() - started).toBeLessThan(5000)
    const echoes = await Promise.all([0, 1].map((w) => pool.run<{ slot: number }>({ type: 'test.echo', payload: {} }, { worker: w })))
    expect(echoes.map((e) => e.slot)).toEqual([0, 1])
  })

  it('a progress callback that throws ends its own task with that error, not the process', async () => {
    const err = await rejection(
      pool.run({ type: 'test.loop', payload: null }, {
        onProgress: () => {
          throw new Error('listener failed')
        }
      })
    )
    expect((err as Error).message).toBe('listener failed')
    const echo = await pool.run<{ slot: number }>({ type: 'test.echo', payload: {} })
    expect([0, 1]).toContain(echo.slot)
  })

  it('a cancelled task that blocks its worker gets the worker replaced after the grace period', async () => {
    const controller = new AbortController()
    const p = pool.run({ type: 'test.busy', payload: { ms: 60_000 } }, { signal: controller.signal, worker: 0 })
    setTimeout(() => controller.abort(), 100)
    const started = Date.now()
    expect(isAppError(await rejection(p), 'CANCELLED')).toBe(true)
    expect(Date.now() - started).toBeLessThan(2000)
    const echo = await pool.run<{ slot: number }>({ type: 'test.echo', payload: {} }, { worker: 0 })
    expect(echo.slot).toBe(0)
    expect(Date.now() - started).toBeLessThan(30_000)
  })

  it('a worker that exits rejects its task with WORKER_CRASHED and is replaced', async () => {
    const err = await rejection(pool.run({ type: 'test.exit', payload: null }, { worker: 1 }))
    expect(isAppError(err, 'WORKER_CRASHED')).toBe(true)
    const echoes = await Promise.all([0, 1].map((w) => pool.run<{ slot: number }>({ type: 'test.echo', payload: {} }, { worker: w })))
    expect(echoes.map((e) => e.slot)).toEqual([0, 1])
  })

  it('an exception thrown in a timer crashes only that task; the pool keeps working', async () => {
    const err = await rejection(pool.run({ type: 'test.throwInTimer', payload: null }))
    expect(isAppError(err, 'WORKER_CRASHED')).toBe(true)
    expect((err as Error).message).toContain('boom from a timer')
    const ref = artifactsRef(await modelToArtifacts(model), 'tiny-1')
    const r = await pool.run({ type: 'predict', payload: { model: ref, images: randomArray(64, 5), shape: [1, 8, 8, 1] } })
    expect(r.shape).toEqual([1, 8, 8, 3])
  })

  it('an interactive task overtakes queued background tasks, and load() says what holds the workers', async () => {
    // Earlier tests crash workers on purpose: wait until both replacements are up.
    await Promise.all([0, 1].map((w) => pool.run({ type: 'test.echo', payload: {} }, { worker: w })))
    // Both workers busy with background work, three more background tasks queued, then one interactive task.
    const blockers = [0, 1].map((w) => pool.run({ type: 'test.busy', payload: { ms: 400 } }, { worker: w, priority: 'background' }))
    const order: string[] = []
    const queued = [1, 2, 3].map((i) =>
      pool.run({ type: 'test.echo', payload: { value: i } }, { priority: 'background', onStart: () => order.push(`background ${i}`) })
    )
    const interactive = pool.run({ type: 'test.echo', payload: { value: 'ui' } }, { priority: 'interactive', onStart: () => order.push('interactive') })
    expect(pool.load()).toEqual({ workers: 2, busy: 2, queued: { interactive: 1, background: 3 } })
    await Promise.all([...blockers, ...queued, interactive])
    expect(order[0]).toBe('interactive')
    expect(order.slice(1)).toEqual(['background 1', 'background 2', 'background 3'])
    expect(pool.load()).toEqual({ workers: 2, busy: 0, queued: { interactive: 0, background: 0 } })
  })

  it('map() tells its caller once when the first of its parts reaches a worker', async () => {
    let starts = 0
    const out = await pool.map<{ value: number }>('test.echo', [1, 2, 3, 4].map((value) => ({ payload: { value } })), { onStart: () => starts++ })
    expect(out.map((o) => o.value)).toEqual([1, 2, 3, 4])
    expect(starts).toBe(1)
  })
})
