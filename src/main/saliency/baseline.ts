import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import type { Baseline } from '@common/saliency'
import { seededUniform } from './random'

/**
 * The baseline image `a` for each image of a batch, [B, H, W, C]. Each image's baseline depends only on that
 * image and the parameters (noise is seeded per request, not per batch position), so batching cannot change it.
 */
export function baselineImages(images: tf.Tensor4D, baseline: Baseline, inputRange: [number, number]): tf.Tensor4D {
  const [b, h, w, c] = images.shape
  switch (baseline.kind) {
    case 'constant': {
      const v = typeof baseline.value === 'number' ? [baseline.value] : baseline.value
      if (v.length !== 1 && v.length !== c) {
        throw new AppError('INVALID_PARAMETERS', `baseline colour has ${v.length} values, the image ${c} channels`)
      }
      return tf.tidy(() => tf.mul(tf.onesLike(images), tf.tensor1d(v.length === 1 ? new Array<number>(c).fill(v[0]) : v)) as tf.Tensor4D)
    }
    case 'blur':
      return gaussianBlur(images, baseline.sigma)
    case 'noise':
      return tf.tidy(() => tf.tile(tf.tensor4d(seededUniform(h * w * c, inputRange[0], inputRange[1], baseline.seed), [1, h, w, c]), [b, 1, 1, 1]) as tf.Tensor4D)
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
export function gaussianBlur(images: tf.Tensor4D, sigma: number): tf.Tensor4D {
  return tf.tidy(() => {
    const c = images.shape[3]
    const k = gaussianKernel(sigma)
    const taps = Array.from(k)
    const fv = tf.tensor4d(taps.flatMap((t) => new Array<number>(c).fill(t)), [k.length, 1, c, 1])
    const fh = tf.tensor4d(taps.flatMap((t) => new Array<number>(c).fill(t)), [1, k.length, c, 1])
    const blur = (x: tf.Tensor4D) => tf.depthwiseConv2d(tf.depthwiseConv2d(x, fv, 1, 'same'), fh, 1, 'same')
    const ones = tf.onesLike(images.slice([0, 0, 0, 0], [1, -1, -1, -1]))
    return tf.div(blur(images), blur(ones)) as tf.Tensor4D
  })
}
