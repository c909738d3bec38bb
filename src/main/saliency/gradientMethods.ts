import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import type { GradientParams } from '@common/saliency'
import { baselineImages } from './baseline'
import { type BatchTensors, classProbabilities, requestScore, throwIfAborted } from './batch'
import type { SegmentationModel } from './model'
import { seededNormal } from './random'

export interface GradientOutcome {
  /** Per request, H×W: channel-summed |averaged gradient|, zero inside R for the context form. */
  pixelMaps: Float32Array[]
  /** Per request, saliencyHeight×saliencyWidth: pixelMaps after the mean filter. */
  maps: Float32Array[]
  /** S(x,R,c) per request. */
  score: number[]
}

/** Noise of SmoothGrad sample k, [H, W, C]: stream k of the seed, identical for every request and batch. */
export function smoothGradNoise(shape: [number, number, number], sigma: number, seed: number, k: number): tf.Tensor3D {
  return tf.tensor3d(seededNormal(shape[0] * shape[1] * shape[2], sigma, seed, k), shape)
}

/** Kernel = stride = image size / saliency size, as in Sec. 3.2; sizes that do not divide are rejected. */
export function meanFilterKernel(height: number, width: number, sh: number, sw: number): [number, number] {
  if (height % sh !== 0 || width % sw !== 0) {
    throw new AppError('INVALID_PARAMETERS', `saliency size ${sh}×${sw} must divide the image size ${height}×${width}`)
  }
  return [height / sh, width / sw]
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * VG, IG and SG of the request score S(x,R,c) (Eq. 4 with G_grid, Eq. 5 for the context form). The batch score is
 * the sum of the per-request scores and request b's score depends only on image b, so one gradient of the batch
 * gives every request its own gradient.
 */
export async function gradientSaliency(
  model: SegmentationModel,
  batch: BatchTensors,
  params: GradientParams,
  options: { onStep?: (step: number) => void; signal?: AbortSignal } = {}
): Promise<GradientOutcome> {
  const { images, requestMasks, classOneHot, height, width, channels } = batch
  const b = images.shape[0]
  const [kh, kw] = meanFilterKernel(height, width, params.saliencyHeight, params.saliencyWidth)
  const grad = tf.grad((x: tf.Tensor) => tf.sum(requestScore(classProbabilities(model, x as tf.Tensor4D, classOneHot), requestMasks)))

  const n = params.method === 'vg' ? 1 : params.method === 'ig' ? params.steps : params.samples
  const start = params.method === 'ig' ? baselineImages(images, params.baseline, model.inputRange) : null
  let acc: tf.Tensor4D = tf.zerosLike(images)
  try {
    for (let k = 1; k <= n; k++) {
      throwIfAborted(options.signal)
      const next = tf.tidy(() => {
        let x: tf.Tensor4D = images
        if (params.method === 'ig') x = tf.add(start!, tf.mul(k / n, tf.sub(images, start!)))
        if (params.method === 'sg') {
          const noise = smoothGradNoise([height, width, channels], params.sigma, params.seed, k - 1)
          x = tf.add(images, noise.expandDims(0))
        }
        return tf.add(acc, grad(x)) as tf.Tensor4D
      })
      acc.dispose()
      acc = next
      options.onStep?.(k)
      await yieldToEventLoop()
    }
    throwIfAborted(options.signal)

    const [pixel, pooled, score] = tf.tidy(() => {
      let g: tf.Tensor4D = tf.div(acc, n)
      if (params.method === 'ig' && params.multiplyByInput) g = tf.mul(g, tf.sub(images, start!))
      let map = tf.sum(tf.abs(g), 3, true) as tf.Tensor4D
      if (params.form === 'context') map = tf.mul(map, tf.sub(1, requestMasks))
      const filtered = kh === 1 && kw === 1 ? map : tf.avgPool(map, [kh, kw], [kh, kw], 'valid')
      const s = requestScore(classProbabilities(model, images, classOneHot), requestMasks)
      return [map, filtered, s]
    })
    const [pixelData, pooledData, scoreData] = await Promise.all([pixel.data(), pooled.data(), score.data()])
    tf.dispose([pixel, pooled, score])
    const hw = height * width
    const shw = params.saliencyHeight * params.saliencyWidth
    return {
      pixelMaps: Array.from({ length: b }, (_, i) => Float32Array.from(pixelData.subarray(i * hw, (i + 1) * hw))),
      maps: Array.from({ length: b }, (_, i) => Float32Array.from(pooledData.subarray(i * shw, (i + 1) * shw))),
      score: Array.from(scoreData)
    }
  } finally {
    acc.dispose()
    start?.dispose()
  }
}
