import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { SaliencyResultSchema } from '../../src/common/saliency'
import { computeOne, image, maxAbsDiff, pixelwiseModel, pixelwiseP1, rectMask, sum, upperMeanModel, useCpu } from './models'

beforeAll(useCpu)

const H = 16
const W = 16
// A bright upper half (what upperMeanModel reads), a darker lower half, and the request inside the lower half.
const twoHalves = image(H, W, (y) => (y < H / 2 ? 0.8 : 0.3))
const lowerRequest = rectMask(H, W, 10, 14, 5, 11)

/** CBL (Eq. 7) of an upsampled context mask with C = 1 − R and C_bias = the upper half. */
function cblUpper(up: Float32Array, r: Uint8Array): number {
  let inC = 0
  let inBias = 0
  for (let i = 0; i < up.length; i++) {
    if (r[i]) continue
    inC += up[i]
    if (Math.floor(i / W) < H / 2) inBias += up[i]
  }
  return inBias / inC
}

describe('context saliency on known-answer models', () => {
  it('finds the upper half when the score in R depends only on the upper half', async () => {
    const model = upperMeanModel(H, W)
    const res = await computeOne(model, { image: twoHalves, request: lowerRequest, classId: 1 }, { method: 'context' }, { upsample: true })
    expect(cblUpper(res.upsampled!, lowerRequest)).toBeGreaterThanOrEqual(0.9)
    // The lower two rows of cells carry no information the model uses.
    const lowerCells = Array.from(res.mask.subarray(8))
    expect(Math.max(...lowerCells)).toBeLessThan(0.05)
    expect(sum(res.mask.subarray(0, 8))).toBeGreaterThan(4)
    expect(res.lossCurve).toHaveLength(100)
    expect(res.lossCurve[res.lossCurve.length - 1]).toBeLessThan(res.lossCurve[0])
  })

  it('records S at the initial mask: the image blended halfway towards the baseline, known in closed form', async () => {
    const model = upperMeanModel(H, W)
    const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z))
    const res = await computeOne(model, { image: twoHalves, request: lowerRequest, classId: 1 }, { method: 'context', steps: 2 })
    // The upper half (all context) at M = 0.5 over a black baseline: 0.4, so p₁ = σ(8·0.4 − 4) everywhere in R.
    expect(res.scoreStart).toBeCloseTo(sigmoid(8 * 0.4 - 4), 5)
    expect(res.scoreOriginal).toBeCloseTo(sigmoid(8 * 0.8 - 4), 5)
    // All context removed (M = 0): the upper half is the black baseline, p₁ = σ(−4), whatever the steps did.
    expect(res.scoreEmptyMask).toBeCloseTo(sigmoid(-4), 5)
    const full = await computeOne(model, { image: twoHalves, request: lowerRequest, classId: 1 }, { method: 'context', steps: 1, init: 1 })
    expect(full.scoreStart).toBeCloseTo(full.scoreOriginal, 6)
  })

  it('comes out empty when the model looks only at the pixels inside R', async () => {
    const model = pixelwiseModel(H, W)
    const img = image(H, W, (y, x) => (y >= 4 && y < 10 && x >= 5 && x < 12 ? 0.9 : ((x * 7 + y * 3) % 10) / 10))
    const r = rectMask(H, W, 4, 10, 5, 12)
    const res = await computeOne(model, { image: img, request: r, classId: 1 }, { method: 'context' })
    expect(Math.max(...res.mask)).toBeLessThan(0.01)
    expect(res.preservation).toBeLessThan(1e-6)
    expect(res.recovered).toBe(true)
    expect(res.scorePerturbed).toBeCloseTo(pixelwiseP1(0.9), 5)
    // Removing all context changes nothing here: the empty mask is the answer, not a collapse.
    expect(res.scoreEmptyMask).toBeCloseTo(res.scoreOriginal, 5)
  })

  it('follows PyTorch SGD with momentum (v = μv + g, M −= lr·v) and Adam when the gradient is the constant λ', async () => {
    // Context saliency on a per-pixel model: the preservation term is identically 0, so every cell's gradient is λ.
    const model = pixelwiseModel(H, W)
    const r = rectMask(H, W, 4, 10, 5, 12)
    const req = { image: twoHalves, request: r, classId: 1 }
    const sgd = await computeOne(model, req, { method: 'context', steps: 3 })
    const lambda = 0.05
    const lr = 0.2
    const expected = 0.5 - lr * (lambda + lambda * 1.5 + lambda * 1.75)
    for (const v of sgd.mask) expect(v).toBeCloseTo(expected, 6)
    expect(sgd.lossCurve[0]).toBeCloseTo(lambda * 16 * 0.5, 6) // ‖M‖₁ is a sum over the 16 cells, not a mean
    expect(sgd.maskL1).toBeCloseTo(16 * expected, 5)
    // Adam's bias-corrected step with a constant gradient is lr·g/(|g| + ε) ≈ lr.
    const adam = await computeOne(model, req, { method: 'context', steps: 2, optimizer: 'adam', learningRate: 0.1 })
    for (const v of adam.mask) expect(v).toBeCloseTo(0.3, 5)
    // Clamped at 0 rather than going negative.
    const long = await computeOne(model, req, { method: 'context', steps: 60 })
    for (const v of long.mask) expect(v).toBe(0)
  })

  it('makes the mask smaller as λ grows, and drives the preservation term to zero at λ = 0', async () => {
    const model = upperMeanModel(H, W)
    const lambdas = [0, 0.02, 0.1, 0.5]
    const req = { image: twoHalves, request: lowerRequest, classId: 1 }
    const results = []
    for (const lambda of lambdas) results.push(await computeOne(model, req, { method: 'grid', lambda }))
    const sizes = results.map((r) => r.maskL1 as number)
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeLessThanOrEqual(sizes[i - 1] + 1e-6)
    expect(sizes[sizes.length - 1]).toBeLessThan(sizes[0] - 1)
    // Without a mask cost the optimum keeps whatever the prediction needs; the cells that only touch the
    // upper half through the last two upsampled rows get a small gradient, hence the longer run.
    const free = await computeOne(model, req, { method: 'grid', lambda: 0, steps: 300 })
    expect(free.preservation).toBeLessThan(1e-4)
    expect(free.recovered).toBe(true)
    expect(results[0].preservation).toBeLessThan(results[1].preservation as number)
  })

  it('stops a request early once its mask stops changing, when asked to', async () => {
    const model = pixelwiseModel(H, W)
    const r = rectMask(H, W, 4, 10, 5, 12)
    const progress: number[] = []
    const res = await computeOne(model, { image: twoHalves, request: r, classId: 1 }, { method: 'context', earlyStop: { enabled: true } }, { onProgress: (s) => progress.push(s) })
    expect(res.stoppedEarly).toBe(true)
    expect(progress).toEqual([...Array.from({ length: res.stepsRun }, (_, i) => i + 1), 100])
    expect(res.stepsRun).toBeLessThan(60)
    expect(res.lossCurve).toHaveLength(res.stepsRun)
    expect(maxAbsDiff(res.mask, new Float32Array(16))).toBe(0)
    const off = await computeOne(model, { image: twoHalves, request: r, classId: 1 }, { method: 'context', steps: 20 })
    expect(off.stoppedEarly).toBe(false)
    expect(off.stepsRun).toBe(20)
  })

  it('records the parameters, including the upsampling convention, and leaks no tensors', async () => {
    const model = upperMeanModel(H, W)
    const before = tf.memory().numTensors
    const res = await computeOne(model, { image: twoHalves, request: lowerRequest, classId: 1, id: 'r1' }, { method: 'grid', steps: 5, baseline: { kind: 'blur', sigma: 2 } }, { upsample: true })
    const other = await computeOne(model, { image: twoHalves, request: lowerRequest, classId: 1 }, { method: 'context', steps: 5, optimizer: 'adam', baseline: { kind: 'noise', seed: 3 }, earlyStop: { enabled: true } })
    const vg = await computeOne(model, { image: twoHalves, request: lowerRequest, classId: 1 }, { method: 'vg' })
    expect(tf.memory().numTensors).toBe(before)
    // Results are what the contract's schema describes, so the app can pass them on unchanged.
    for (const r of [res, other, vg]) expect(SaliencyResultSchema.safeParse(r).success).toBe(true)
    expect(vg).toMatchObject({ preservation: null, recovered: null, lossCurve: [], maskHeight: 4, maskWidth: 4 })
    expect(res.id).toBe('r1')
    expect(res.params).toMatchObject({ method: 'grid', maskHeight: 4, maskWidth: 4, upsample: { mode: 'bilinear', halfPixelCenters: true } })
    expect(res.mask).toHaveLength(16)
    expect(res.upsampled).toHaveLength(H * W)
    // Unless asked for, a result carries the low-resolution mask alone.
    expect(other.upsampled).toBeUndefined()
    expect(res.timeMs).toBeGreaterThan(0)
  })
})
