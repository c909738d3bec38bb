import { AppError } from '@common/errors'
import type { Baseline } from '@common/saliency'
import type { BatchGeometry } from './model'
import { seededUniform } from '../prng'

/**
 * The baseline image `a` for each image of a batch, [B, H, W, C]. Each image's baseline depends only on that
 * image and the parameters (noise is seeded per request, not per batch position), so batching cannot change it.
 */
export function baselineImages(images: Float32Array, g: BatchGeometry, baseline: Baseline, inputRange: [number, number]): Float32Array {
  const { batch: b, height: h, width: w, channels: c } = g
  const per = h * w * c
  switch (baseline.kind) {
    case 'constant': {
      const v = typeof baseline.value === 'number' ? [baseline.value] : baseline.value
      if (v.length !== 1 && v.length !== c) {
        throw new AppError('INVALID_PARAMETERS', `baseline colour has ${v.length} values, the image ${c} channels`)
      }
      const out = new Float32Array(b * per)
      for (let i = 0; i < out.length; i++) out[i] = v.length === 1 ? v[0] : v[i % c]
      return out
    }
    case 'blur':
      return gaussianBlur(images, g, baseline.sigma)
    case 'noise': {
      const one = seededUniform(per, inputRange[0], inputRange[1], baseline.seed)
      const out = new Float32Array(b * per)
      for (let i = 0; i < b; i++) out.set(one, i * per)
      return out
    }
  }
}

/** 1-D Gaussian taps, radius ⌈3σ⌉, summing to 1. */
export function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma))
  const k = new Float32Array(2 * r + 1)
  let s = 0
  for (let i = -r; i <= r; i++) {
    k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma))
    s += k[i + r]
  }
  for (let i = 0; i < k.length; i++) k[i] /= s
  return k
}

/**
 * Separable Gaussian blur. Near the border the taps that fall outside are dropped and the rest renormalised
 * (blur of the image divided by blur of ones), so edges keep their brightness instead of fading to zero.
 */
export function gaussianBlur(images: Float32Array, g: BatchGeometry, sigma: number): Float32Array {
  const { batch: b, height: h, width: w, channels: c } = g
  const k = gaussianKernel(sigma)
  const r = (k.length - 1) / 2
  // Σ of the taps that land inside [0, n) around each position: the blur of ones along one axis.
  const inside = (n: number) =>
    Float64Array.from({ length: n }, (_, y) => {
      let s = 0
      for (let i = Math.max(-r, -y); i <= Math.min(r, n - 1 - y); i++) s += k[i + r]
      return s
    })
  const normY = inside(h)
  const normX = inside(w)
  const out = new Float32Array(images.length)
  const tmp = new Float64Array(h * w * c)
  for (let n = 0; n < b; n++) {
    const base = n * h * w * c
    tmp.fill(0)
    for (let y = 0; y < h; y++)
      for (let i = Math.max(-r, -y); i <= Math.min(r, h - 1 - y); i++) {
        const t = k[i + r]
        const src = base + (y + i) * w * c
        const dst = y * w * c
        for (let j = 0; j < w * c; j++) tmp[dst + j] += t * images[src + j]
      }
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++) {
          let s = 0
          for (let i = Math.max(-r, -x); i <= Math.min(r, w - 1 - x); i++) s += k[i + r] * tmp[(y * w + x + i) * c + ch]
          out[base + (y * w + x) * c + ch] = s / (normY[y] * normX[x])
        }
  }
  return out
}
