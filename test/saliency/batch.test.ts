import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { isAppError } from '../../src/common/errors'
import { type PerturbationParams, type SaliencyParamsInput, SaliencyParamsSchema } from '../../src/common/saliency'
import { computeSaliency, type SaliencyRequest } from '../../src/main/saliency'
import { batchArrays } from '../../src/main/saliency/batch'
import { preparePerturbation, stepArgs } from '../../src/main/saliency/perturbation'
import { computeOne, maxAbsDiff, randomImage, rectMask, smallConvModel, upperMeanModel, useCpu } from './models'

beforeAll(useCpu)

const H = 16
const W = 16
const model = smallConvModel(H, W, 1, 3, 4)
const imgA = randomImage(H, W, 1, 1)
const imgB = randomImage(H, W, 1, 2)
const requests: SaliencyRequest[] = [
  { image: imgA, request: rectMask(H, W, 4, 9, 4, 9), classId: 0, id: 'a0' },
  { image: imgA, request: rectMask(H, W, 10, 15, 2, 12), classId: 2, id: 'a2' },
  { image: imgB, request: rectMask(H, W, 0, 6, 8, 16), classId: 1, id: 'b1' }
]

describe('batched requests', () => {
  for (const method of ['context', 'grid'] as const) {
    it(`give the same ${method} result alone as inside a batch`, async () => {
      const params: SaliencyParamsInput = { method, steps: 30, lambda: 0.02, learningRate: 0.5 }
      const together = await computeSaliency(model, requests, params)
      expect(together.map((r) => r.id)).toEqual(['a0', 'a2', 'b1'])
      expect(together.every((r) => r.batchSize === 3)).toBe(true)
      for (const [i, req] of requests.entries()) {
        const alone = await computeOne(model, req, params)
        expect(alone.batchSize).toBe(1)
        expect(maxAbsDiff(together[i].mask, alone.mask)).toBeLessThan(1e-5)
        expect(maxAbsDiff(together[i].lossCurve, alone.lossCurve)).toBeLessThan(1e-5)
        expect(Math.abs((together[i].preservation as number) - (alone.preservation as number))).toBeLessThan(1e-5)
      }
      // The masks must actually have moved, or equality would prove nothing.
      expect(maxAbsDiff(together[0].mask, together[1].mask)).toBeGreaterThan(0.01)
    })
  }

  it('splits into batches of at most maxBatch and reports progress over all of them', async () => {
    const seen: [number, number][] = []
    const res = await computeSaliency(model, requests, { method: 'grid', steps: 4 }, { maxBatch: 2, onProgress: (s, n) => seen.push([s, n]) })
    expect(res.map((r) => r.batchSize)).toEqual([2, 2, 1])
    expect(seen).toEqual(Array.from({ length: 8 }, (_, i) => [i + 1, 8]))
  })

  it('hands each batch its results as soon as it is done, before the next batch takes a step', async () => {
    let step = 0
    const handed: { ids: (string | undefined)[]; indices: number[]; atStep: number }[] = []
    const res = await computeSaliency(model, requests, { method: 'grid', steps: 4 }, {
      maxBatch: 2,
      onProgress: (s) => (step = s),
      onResults: (indices, results) => handed.push({ indices, ids: results.map((r) => r.id), atStep: step })
    })
    expect(handed).toEqual([
      { indices: [0, 1], ids: ['a0', 'a2'], atStep: 4 },
      { indices: [2], ids: ['b1'], atStep: 8 }
    ])
    // The same objects the call returns: a caller that stored them has stored the results.
    expect(res.map((r) => r.id)).toEqual(['a0', 'a2', 'b1'])
  })

  it('cancels at the next step when the signal aborts, without leaking tensors', async () => {
    const before = tf.memory().numTensors
    const controller = new AbortController()
    let steps = 0
    const run = computeSaliency(model, requests, { method: 'context', steps: 1000 }, {
      signal: controller.signal,
      onProgress: (s) => {
        steps = s
        if (s === 3) setTimeout(() => controller.abort(), 0)
      }
    })
    await expect(run).rejects.toSatisfy((e: unknown) => isAppError(e, 'CANCELLED'))
    expect(steps).toBeLessThan(10)
    expect(tf.memory().numTensors).toBe(before)
    const aborted = new AbortController()
    aborted.abort()
    await expect(computeOne(model, requests[0], { method: 'vg' }, { signal: aborted.signal })).rejects.toMatchObject({ code: 'CANCELLED' })
  })

  it('rejects bad requests with their error codes before doing any work', async () => {
    const ok = requests[0]
    const cases: [SaliencyRequest, string][] = [
      [{ ...ok, request: new Uint8Array(H * W) }, 'EMPTY_REQUEST_MASK'],
      [{ ...ok, request: new Uint8Array(H * W - 1).fill(1) }, 'REQUEST_SIZE_MISMATCH'],
      [{ ...ok, image: randomImage(8, 8, 1, 1), request: new Uint8Array(64).fill(1) }, 'REQUEST_SIZE_MISMATCH'],
      [{ ...ok, classId: 3 }, 'INVALID_PARAMETERS'],
      [{ ...ok, classId: -1 }, 'INVALID_PARAMETERS'],
      [{ ...ok, classId: 1.5 }, 'INVALID_PARAMETERS']
    ]
    for (const [req, code] of cases) {
      await expect(computeSaliency(model, [requests[1], req], { method: 'context' })).rejects.toMatchObject({ code })
    }
    await expect(computeOne(model, ok, { method: 'context', lambda: -1 })).rejects.toMatchObject({ code: 'INVALID_PARAMETERS' })
    await expect(computeOne(model, ok, { method: 'grid', maskHeight: 32 })).rejects.toMatchObject({ code: 'INVALID_PARAMETERS' })
    await expect(computeOne(model, ok, { method: 'context', baseline: { kind: 'constant', value: [0, 0] } })).rejects.toMatchObject({ code: 'INVALID_PARAMETERS' })
  })
})

describe('the perturbation loss', () => {
  it('has the gradient finite differences give, with ‖M‖₁ a sum over cells and preservation a mean over R', async () => {
    const params = SaliencyParamsSchema.parse({ method: 'grid', maskHeight: 3, maskWidth: 3, lambda: 0.05, baseline: { kind: 'blur', sigma: 1.5 } }) as PerturbationParams
    const req = requests[2]
    const batch = batchArrays(model, [req])
    const problem = await preparePerturbation(model, batch, params)
    const m0 = Float32Array.from({ length: 9 }, (_, i) => 0.2 + 0.07 * i)
    const lossAt = async (m: Float32Array) => (await model.perturbationStep(stepArgs(problem, m, false))).loss[0]
    const grad = (await model.perturbationStep(stepArgs(problem, m0, true))).gradient!
    const eps = 1e-2
    const fd: number[] = []
    for (let i = 0; i < m0.length; i++) {
      const plus = Float32Array.from(m0)
      const minus = Float32Array.from(m0)
      plus[i] += eps
      minus[i] -= eps
      fd.push(((await lossAt(plus)) - (await lossAt(minus))) / (2 * eps))
    }
    const scale = Math.max(...fd.map(Math.abs))
    expect(maxAbsDiff(grad, fd)).toBeLessThan(2e-3 * scale)

    // At M = 1 nothing is perturbed: no shortfall, and the mask term is λ·(number of cells).
    const t = await model.perturbationStep(stepArgs(problem, new Float32Array(9).fill(1), false))
    const ones = [t.preservation[0], t.maskL1[0]]
    expect(ones[0]).toBeLessThan(1e-7)
    expect(ones[1]).toBe(9)
  })

  it('at M = 0 (grid) scores the baseline image alone: the mean shortfall over R', async () => {
    // upperMeanModel with a constant-0 baseline: p1 drops from σ(8μ − 4) to σ(−4) at every pixel of R.
    const m = upperMeanModel(H, W)
    const params = SaliencyParamsSchema.parse({ method: 'grid' }) as PerturbationParams
    const req = { image: imgA, request: rectMask(H, W, 9, 12, 0, 5), classId: 1 }
    const batch = batchArrays(m, [req])
    const problem = await preparePerturbation(m, batch, params)
    const pres = (await m.perturbationStep(stepArgs(problem, new Float32Array(16), false))).preservation[0]
    let mu = 0
    for (let i = 0; i < (H / 2) * W; i++) mu += imgA.data[i] / ((H / 2) * W)
    const s = (z: number) => 1 / (1 + Math.exp(-z))
    expect(pres).toBeCloseTo(s(8 * mu - 4) - s(-4), 5)
  })
})
