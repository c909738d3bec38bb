import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { SALIENCY_PRESETS, SaliencyParamsSchema, saliencyParams } from '../../src/common/saliency'
import { baselineImages, gaussianBlur } from '../../src/main/saliency/baseline'
import { seededNormal, seededUniform } from '../../src/main/prng'
import { interpolationMatrix, upsampleBilinear } from '../../src/main/saliency/upsample'
import { upsampleMasks } from '../../src/main/engine/tfjsModel'
import { maxAbsDiff, randomImage, useCpu } from './models'

beforeAll(useCpu)

describe('mask upsampling', () => {
  it('equals tf.image.resizeBilinear with halfPixelCenters=true, as tensors and as arrays', () => {
    const m = randomImage(4, 3, 2, 1).data // two masks of 4×3
    const ours = tf.tidy(() => upsampleMasks(tf.tensor3d(m, [2, 4, 3]), 16, 9).dataSync())
    // The reference treats the two masks as two single-channel NHWC images.
    const ref = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(m, [2, 4, 3, 1]), [16, 9], false, true).dataSync())
    expect(maxAbsDiff(ours, ref)).toBeLessThan(1e-6)
    const first = upsampleBilinear(m.subarray(0, 12), 4, 3, 16, 9)
    expect(maxAbsDiff(first, ours.subarray(0, 16 * 9))).toBeLessThan(1e-6)
  })

  it('has rows that sum to one and puts a cell centre exactly on its cell value', () => {
    const a = interpolationMatrix(64, 4)
    for (let i = 0; i < 64; i++) expect(a.subarray(i * 4, i * 4 + 4).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6)
    // Output pixel 6 (centre 6.5) maps to source 6.5/16 − 0.5 = −0.09 → clamped to cell 0 alone.
    expect(Array.from(a.subarray(6 * 4, 7 * 4))).toEqual([1, 0, 0, 0])
    // Output pixel 24 (centre 24.5) → 1.03: mostly cell 1.
    expect(a[24 * 4 + 1]).toBeCloseTo(0.96875, 6)
  })
})

describe('baselines', () => {
  it('blur keeps a constant image constant (edges renormalised) and matches a direct Gaussian sum', () => {
    const c = new Float32Array(9 * 7 * 2).fill(0.6)
    const blurred = gaussianBlur(c, { batch: 1, height: 9, width: 7, channels: 2 }, 1.3)
    expect(maxAbsDiff(blurred, new Float32Array(9 * 7 * 2).fill(0.6))).toBeLessThan(1e-6)

    const img = randomImage(9, 7, 1, 3)
    const sigma = 1.3
    const r = Math.ceil(3 * sigma)
    const direct = new Float32Array(9 * 7)
    for (let y = 0; y < 9; y++)
      for (let x = 0; x < 7; x++) {
        let s = 0
        let ws = 0
        for (let dy = -r; dy <= r; dy++)
          for (let dx = -r; dx <= r; dx++) {
            const yy = y + dy
            const xx = x + dx
            if (yy < 0 || yy >= 9 || xx < 0 || xx >= 7) continue
            const wgt = Math.exp(-(dy * dy + dx * dx) / (2 * sigma * sigma))
            s += wgt * img.data[yy * 7 + xx]
            ws += wgt
          }
        direct[y * 7 + x] = s / ws
      }
    const ours = gaussianBlur(img.data, { batch: 1, height: 9, width: 7, channels: 1 }, sigma)
    expect(maxAbsDiff(ours, direct)).toBeLessThan(1e-5)
  })

  it('constant colours fill per channel; noise is reproducible, per seed, and inside the input range', () => {
    const imgs = new Float32Array(2 * 3 * 3 * 3)
    const g = { batch: 2, height: 3, width: 3, channels: 3 }
    const colour = baselineImages(imgs, g, { kind: 'constant', value: [0.1, 0.5, 0.9] }, [0, 1])
    expect(Array.from(colour.subarray(0, 6))).toEqual([0.1, 0.5, 0.9, 0.1, 0.5, 0.9].map(Math.fround))
    const n1 = baselineImages(imgs, g, { kind: 'noise', seed: 0 }, [-1, 2])
    const n2 = baselineImages(imgs, g, { kind: 'noise', seed: 0 }, [-1, 2])
    const n3 = baselineImages(imgs, g, { kind: 'noise', seed: 1 }, [-1, 2])
    const d1 = n1
    expect(maxAbsDiff(d1, n2)).toBe(0)
    expect(maxAbsDiff(d1, n3)).toBeGreaterThan(0.1)
    expect(Math.min(...d1)).toBeGreaterThanOrEqual(-1)
    expect(Math.max(...d1)).toBeLessThan(2)
  })

  it('seeded normals have the asked standard deviation and uniform streams are distinct', () => {
    const x = seededNormal(20000, 0.3, 5)
    const mean = x.reduce((s, v) => s + v, 0) / x.length
    const sd = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length)
    expect(Math.abs(mean)).toBeLessThan(0.01)
    expect(sd).toBeCloseTo(0.3, 2)
    expect(maxAbsDiff(seededUniform(100, 0, 1, 5, 0), seededUniform(100, 0, 1, 5, 1))).toBeGreaterThan(0.5)
  })
})

describe('parameter schemas', () => {
  it('default to the paper’s synthetic settings', () => {
    const p = SaliencyParamsSchema.parse({ method: 'context' })
    expect(p).toMatchObject({
      method: 'context',
      maskHeight: 4,
      maskWidth: 4,
      init: 0.5,
      optimizer: 'sgd',
      momentum: 0.5,
      learningRate: 0.2,
      steps: 100,
      lambda: 0.05,
      baseline: { kind: 'constant', value: 0 },
      clip: true,
      upsample: { mode: 'bilinear', halfPixelCenters: true },
      earlyStop: { enabled: false }
    })
  })

  it('hold the Cityscapes settings in a preset, and let overrides win', () => {
    expect(saliencyParams('context', 'cityscapes')).toMatchObject({ maskHeight: 16, maskWidth: 32, learningRate: 1, steps: 80, lambda: 0.01, momentum: 0.5 })
    expect(saliencyParams('grid', 'cityscapes', { steps: 10 })).toMatchObject({ steps: 10, maskWidth: 32 })
    expect(saliencyParams('vg', 'cityscapes')).toMatchObject({ saliencyHeight: 16, saliencyWidth: 32, form: 'context' })
    expect(SALIENCY_PRESETS.synthetic.perturbation).toEqual({})
    expect(() => SaliencyParamsSchema.parse({ method: 'grid', upsample: { halfPixelCenters: false } })).toThrow()
  })
})
