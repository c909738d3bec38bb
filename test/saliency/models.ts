import * as tf from '@tensorflow/tfjs'
import { fromLayersModel, tfjsSegmentationModel, type TfjsSegmentationModel } from '../../src/main/engine/tfjsModel'
import type { SaliencyParams, SaliencyParamsInput, SaliencyResult } from '../../src/common/saliency'
import { computeSaliency, type SaliencyOptions, type SaliencyRequest, type SegmentationModel } from '../../src/main/saliency'
import type { SaliencyImage } from '../../src/main/saliency/batch'

/** Known-answer models and fixtures for the saliency tests; all run on the JS CPU backend. */

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu')
  await tf.ready()
}

/** One request through computeSaliency, the way the pool's handler runs a batch of one. */
export async function computeOne(
  model: SegmentationModel,
  request: SaliencyRequest,
  params: SaliencyParamsInput | SaliencyParams,
  options: Omit<SaliencyOptions, 'maxBatch'> = {}
): Promise<SaliencyResult> {
  return (await computeSaliency(model, [request], params, options))[0]
}

export const sigmoid = (z: number) => 1 / (1 + Math.exp(-z))

/**
 * Two classes; class 1 has probability σ(a·μ + b) at every pixel, μ the mean intensity of the upper half of the
 * image (rows < H/2, all channels). Nothing else in the image matters.
 */
export function upperMeanModel(height: number, width: number, a = 8, b = -4, channels = 1): TfjsSegmentationModel {
  return tfjsSegmentationModel({
    inputShape: [height, width, channels],
    numClasses: 2,
    inputRange: [0, 1],
    predict: (x) =>
      tf.tidy(() => {
        const n = x.shape[0]
        const mu = tf.mean(x.slice([0, 0, 0, 0], [n, height / 2, width, channels]), [1, 2, 3])
        const logit = tf.add(tf.mul(mu, a), b).reshape([n, 1, 1, 1])
        const logits = tf.concat([tf.zerosLike(logit), logit], 3)
        return tf.softmax(tf.tile(logits, [1, height, width, 1])) as tf.Tensor4D
      })
  })
}

/** Analytic ∂p₁/∂x for one pixel of the upper half of upperMeanModel (zero in the lower half). */
export function upperMeanGradient(mu: number, height: number, width: number, a = 8, b = -4, channels = 1): number {
  const p = sigmoid(a * mu + b)
  return (p * (1 - p) * a) / ((height / 2) * width * channels)
}

/**
 * A per-pixel classifier (1×1 convolution + softmax) built with tf.layers and fixed weights: each output pixel
 * sees only its own input pixel. Logits: class 0 = −w·x + w/2, class 1 = w·x − w/2.
 */
export function pixelwiseModel(height: number, width: number, w = 10): TfjsSegmentationModel {
  const input = tf.input({ shape: [height, width, 1] })
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'softmax', useBias: true })
  const model = tf.model({ inputs: input, outputs: conv.apply(input) as tf.SymbolicTensor })
  conv.setWeights([tf.tensor4d([-w, w], [1, 1, 1, 2]), tf.tensor1d([w / 2, -w / 2])])
  return fromLayersModel(model)
}

/** Class-1 probability of pixelwiseModel for one pixel value. */
export const pixelwiseP1 = (x: number, w = 10) => sigmoid(2 * (w * x - w / 2))

/**
 * A small smooth network with spatial mixing (3×3 tanh convolution, 3×3 convolution, softmax), deterministic
 * from a seed, for finite-difference and batching checks.
 */
export function smallConvModel(height: number, width: number, channels: number, classes: number, seed = 1): TfjsSegmentationModel {
  const input = tf.input({ shape: [height, width, channels] })
  const h1 = tf.layers
    .conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed }), biasInitializer: tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: seed + 1 }) })
    .apply(input) as tf.SymbolicTensor
  const out = tf.layers
    .conv2d({ filters: classes, kernelSize: 3, padding: 'same', activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) })
    .apply(h1) as tf.SymbolicTensor
  return fromLayersModel(tf.model({ inputs: input, outputs: out }))
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function randomImage(height: number, width: number, channels: number, seed: number): SaliencyImage {
  const r = rng(seed)
  return { data: Float32Array.from({ length: height * width * channels }, () => r()), height, width, channels }
}

export function image(height: number, width: number, value: (y: number, x: number, c: number) => number, channels = 1): SaliencyImage {
  const data = new Float32Array(height * width * channels)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = value(y, x, c)
  return { data, height, width, channels }
}

export function rectMask(height: number, width: number, y0: number, y1: number, x0: number, x1: number): Uint8Array {
  const m = new Uint8Array(height * width)
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * width + x] = 1
  return m
}

export const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0)
export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0)
