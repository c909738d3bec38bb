import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import type { TaskHandler } from '../handler'
import type { ModelRef } from '../modelCache'

export interface PredictPayload {
  model: ModelRef
  /** [n, h, w, c] images, row-major. */
  images: Float32Array
  shape: [number, number, number, number]
  /** What to send back (default 'both'). */
  output?: 'probabilities' | 'argmax' | 'both'
  /** Images per forward pass inside the worker (default 16). */
  batchSize?: number
}

export interface PredictResult {
  /** [n, oh, ow, k] of the model output. */
  shape: [number, number, number, number]
  probabilities?: Float32Array
  /** [n, oh, ow] most probable class per pixel. */
  argmax?: Int32Array
}

export interface PredictProgress {
  done: number
  total: number
}

declare module '../protocol' {
  interface TaskMap {
    predict: { payload: PredictPayload; result: PredictResult; progress: PredictProgress }
  }
}

export function checkImages(images: Float32Array, shape: readonly number[]): void {
  if (shape.length !== 4 || images.length !== shape.reduce((a, b) => a * b, 1)) {
    throw new AppError('INVALID_PAYLOAD', `Got ${images.length} values for an image batch of shape [${shape.join(', ')}]`)
  }
}

/**
 * Forward passes of a TensorFlow.js model given by ModelRef (in-memory artifacts or a bare tfjs folder, as training
 * and the benchmark runner make them; no sidecar needed, and the output may have any size). A tfjs-level task:
 * model folders with a sidecar can be opened on any runtime through openSegmentationModel (see the labels task).
 */
export const predict: TaskHandler<PredictPayload, PredictResult> = async (p, ctx) => {
  checkImages(p.images, p.shape)
  const model = await ctx.loadModel(p.model)
  const [n, h, w, c] = p.shape
  const per = h * w * c
  const bs = Math.max(1, p.batchSize ?? 16)
  const want = p.output ?? 'both'
  let outShape: [number, number, number, number] | null = null
  let probs: Float32Array | null = null
  let argmax: Int32Array | null = null
  for (let s = 0; s < n; s += bs) {
    await ctx.checkpoint()
    const e = Math.min(n, s + bs)
    let pv: ArrayLike<number> | null = null
    let av: ArrayLike<number> | null = null
    let shape: number[] = []
    tf.tidy(() => {
      const x = tf.tensor4d(p.images.subarray(s * per, e * per), [e - s, h, w, c])
      const y = model.predict(x) as tf.Tensor
      if (y.rank !== 4) throw new AppError('MODEL_OUTPUT_MISMATCH', `Expected a [b, h, w, k] output, got [${y.shape.join(', ')}]`)
      shape = y.shape
      if (want !== 'argmax') pv = y.dataSync()
      if (want !== 'probabilities') av = tf.argMax(y, -1).dataSync()
    })
    if (!outShape) {
      outShape = [n, shape[1], shape[2], shape[3]]
      if (want !== 'argmax') probs = new Float32Array(n * shape[1] * shape[2] * shape[3])
      if (want !== 'probabilities') argmax = new Int32Array(n * shape[1] * shape[2])
    }
    const perOut = shape[1] * shape[2] * shape[3]
    if (probs && pv) probs.set(pv, s * perOut)
    if (argmax && av) argmax.set(av, s * shape[1] * shape[2])
    ctx.progress({ done: e, total: n } satisfies PredictProgress)
  }
  const result: PredictResult = { shape: outShape ?? [0, 0, 0, 0] }
  if (probs) result.probabilities = probs
  if (argmax) result.argmax = argmax
  return result
}
