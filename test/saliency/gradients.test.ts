import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { computeSaliency, type SaliencyImage, type SegmentationModel } from '../../src/main/saliency'
import { smoothGradNoise } from '../../src/main/saliency/gradientMethods'
import { computeOne, image, maxAbsDiff, randomImage, rectMask, sigmoid, smallConvModel, upperMeanGradient, upperMeanModel, useCpu } from './models'

beforeAll(useCpu)

const H = 16
const W = 16
const twoHalves = image(H, W, (y, x) => (y < H / 2 ? 0.5 + 0.4 * ((x % 3) / 2) : 0.3))
const lowerRequest = rectMask(H, W, 10, 14, 5, 11)
const upperMean = (img: ArrayLike<number>) => {
  let s = 0
  for (let i = 0; i < (H / 2) * W; i++) s += img[i]
  return s / ((H / 2) * W)
}

describe('gradient saliency against analytic gradients', () => {
  const model = upperMeanModel(H, W)
  const req = { image: twoHalves, request: lowerRequest, classId: 1 }
  const mu = upperMean(twoHalves.data)

  it('VG is the analytic |∂S/∂x|: constant over the upper half, zero below', async () => {
    const res = await computeOne(model, req, { method: 'vg', form: 'grid', saliencyHeight: H, saliencyWidth: W })
    const g = upperMeanGradient(mu, H, W)
    const expected = Float32Array.from({ length: H * W }, (_, i) => (i < (H / 2) * W ? g : 0))
    expect(maxAbsDiff(res.mask, expected)).toBeLessThan(1e-6 * g + 1e-9)
    expect(res.scoreOriginal).toBeCloseTo(sigmoid(8 * mu - 4), 6)
    // The default 4×4 mean filter: the two upper rows of cells hold g, the rest 0.
    const pooled = await computeOne(model, req, { method: 'vg' })
    expect(maxAbsDiff(pooled.mask, Float32Array.from({ length: 16 }, (_, i) => (i < 8 ? g : 0)))).toBeLessThan(1e-6 * g)
  })

  it('IG averages the analytic gradient along k/n·x (Eq. 4), optionally times x', async () => {
    const n = 5
    let avg = 0
    for (let k = 1; k <= n; k++) avg += upperMeanGradient((k / n) * mu, H, W) / n
    const res = await computeOne(model, req, { method: 'ig', form: 'grid', steps: n, saliencyHeight: H, saliencyWidth: W })
    const expected = Float32Array.from({ length: H * W }, (_, i) => (i < (H / 2) * W ? avg : 0))
    expect(maxAbsDiff(res.mask, expected)).toBeLessThan(1e-6 * avg)
    const times = await computeOne(model, req, { method: 'ig', form: 'grid', steps: n, saliencyHeight: H, saliencyWidth: W, multiplyByInput: true })
    const expectedTimes = Float32Array.from({ length: H * W }, (_, i) => (i < (H / 2) * W ? avg * twoHalves.data[i] : 0))
    expect(maxAbsDiff(times.mask, expectedTimes)).toBeLessThan(1e-6 * avg)
  })

  it('SG takes |mean gradient| over the seeded noisy copies', async () => {
    const n = 4
    const sigma = 0.2
    let avg = 0
    for (let k = 0; k < n; k++) {
      const noise = smoothGradNoise([H, W, 1], sigma, 7, k)
      const noisy = tf.tidy(() => tf.add(tf.tensor1d(twoHalves.data), tf.tensor1d(noise)).dataSync())
      avg += upperMeanGradient(upperMean(noisy), H, W) / n
    }
    const res = await computeOne(model, req, { method: 'sg', form: 'grid', samples: n, sigma, seed: 7, saliencyHeight: H, saliencyWidth: W })
    const expected = Float32Array.from({ length: H * W }, (_, i) => (i < (H / 2) * W ? avg : 0))
    expect(maxAbsDiff(res.mask, expected)).toBeLessThan(1e-5 * avg)
  })
})

/** S(x,R,c) for many images at once, evaluated by the model and averaged in plain JS. */
async function scores(model: SegmentationModel, images: Float32Array[], img: SaliencyImage, r: Uint8Array, c: number): Promise<number[]> {
  const { height, width, channels } = img
  const flat = new Float32Array(images.length * images[0].length)
  images.forEach((x, i) => flat.set(x, i * x.length))
  const probs = await model.predict(flat, { batch: images.length, height, width, channels })
  const k = model.numClasses
  let area = 0
  for (const v of r) area += v
  return images.map((_, i) => {
    let s = 0
    for (let p = 0; p < height * width; p++) if (r[p]) s += probs[(i * height * width + p) * k + c]
    return s / area
  })
}

/** Central differences of S at x, per pixel and channel. */
async function fdGradient(model: SegmentationModel, x: Float32Array, img: SaliencyImage, r: Uint8Array, c: number, eps = 1e-2): Promise<Float64Array> {
  const probes: Float32Array[] = []
  for (let i = 0; i < x.length; i++) {
    const plus = Float32Array.from(x)
    const minus = Float32Array.from(x)
    plus[i] += eps
    minus[i] -= eps
    probes.push(plus, minus)
  }
  const s = await scores(model, probes, img, r, c)
  return Float64Array.from({ length: x.length }, (_, i) => (s[2 * i] - s[2 * i + 1]) / (2 * eps))
}

/** Channel-summed |g|, per pixel. */
function channelAbsSum(g: ArrayLike<number>, channels: number): Float64Array {
  const out = new Float64Array(g.length / channels)
  for (let i = 0; i < g.length; i++) out[Math.floor(i / channels)] += Math.abs(g[i])
  return out
}

describe('gradient saliency against finite differences', () => {
  const h = 6
  const w = 6
  const ch = 2
  const model = smallConvModel(h, w, ch, 3, 11)
  const img = randomImage(h, w, ch, 5)
  const r = rectMask(h, w, 2, 4, 1, 4)
  const c = 2
  const req = { image: img, request: r, classId: c }
  const full = { form: 'grid' as const, saliencyHeight: h, saliencyWidth: w }
  const close = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    const scale = Math.max(...Array.from(b, Math.abs))
    expect(scale).toBeGreaterThan(1e-4)
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-3 * scale)
  }

  it('VG matches finite differences, and the context form zeroes R only', async () => {
    const fd = await fdGradient(model, img.data, img, r, c)
    const grid = await computeOne(model, req, { method: 'vg', ...full })
    close(grid.mask, channelAbsSum(fd, ch))
    const context = await computeOne(model, req, { method: 'vg', ...full, form: 'context' })
    for (let p = 0; p < h * w; p++) expect(context.mask[p]).toBe(r[p] ? 0 : grid.mask[p])
  })

  it('IG matches the finite-difference gradients averaged along the path from a constant baseline', async () => {
    const n = 3
    const base = 0.25
    const avg = new Float64Array(img.data.length)
    for (let k = 1; k <= n; k++) {
      const xk = img.data.map((v) => base + (k / n) * (v - base))
      ;(await fdGradient(model, xk, img, r, c)).forEach((g, i) => (avg[i] += g / n))
    }
    const ig = await computeOne(model, req, { method: 'ig', ...full, steps: n, baseline: { kind: 'constant', value: base } })
    close(ig.mask, channelAbsSum(avg, ch))
  })

  it('SG matches the finite-difference gradients averaged over the same noisy copies', async () => {
    const n = 2
    const sigma = 0.1
    const avg = new Float64Array(img.data.length)
    for (let k = 0; k < n; k++) {
      const noise = smoothGradNoise([h, w, ch], sigma, 3, k)
      const noisy = Float32Array.from(noise, (v, i) => img.data[i] + v)
      ;(await fdGradient(model, noisy, img, r, c)).forEach((g, i) => (avg[i] += g / n))
    }
    const sg = await computeOne(model, req, { method: 'sg', ...full, samples: n, sigma, seed: 3 })
    close(sg.mask, channelAbsSum(avg, ch))
  })

  it('mean-filters with kernel = stride = image size / saliency size', async () => {
    const res = await computeOne(model, req, { method: 'vg', form: 'context', saliencyHeight: 3, saliencyWidth: 2 }, { upsample: true })
    // At the image's own size the map is the per-pixel one (checked against finite differences above).
    const px = (await computeOne(model, req, { method: 'vg', ...full, form: 'context' })).mask
    const expected = new Float32Array(6)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) expected[Math.floor(y / 2) * 2 + Math.floor(x / 3)] += px[y * w + x] / 6
    expect(maxAbsDiff(res.mask, expected)).toBeLessThan(1e-7)
    expect(res.upsampled).toHaveLength(h * w)
    await expect(computeOne(model, req, { method: 'vg', saliencyHeight: 4, saliencyWidth: 4 })).rejects.toMatchObject({ code: 'INVALID_PARAMETERS' })
  })

  it('gives each request in a batch its own gradient and leaks no tensors', async () => {
    const other = { image: randomImage(h, w, ch, 9), request: rectMask(h, w, 0, 2, 0, 6), classId: 0 }
    const before = tf.memory().numTensors
    const [a, b] = await computeSaliency(model, [req, other], { method: 'sg', samples: 3, sigma: 0.1, saliencyHeight: 3, saliencyWidth: 3 })
    const alone = await computeOne(model, other, { method: 'sg', samples: 3, sigma: 0.1, saliencyHeight: 3, saliencyWidth: 3 })
    expect(tf.memory().numTensors).toBe(before)
    expect(a.batchSize).toBe(2)
    expect(maxAbsDiff(b.mask, alone.mask)).toBeLessThan(1e-6 * Math.max(...alone.mask))
  })
})
