import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import type { SegmentationModel } from './model'

/** Row-major HWC pixels in the model's input units. */
export interface SaliencyImage {
  data: Float32Array
  height: number
  width: number
  channels: number
}

export interface SaliencyRequest {
  image: SaliencyImage
  /** Row-major height×width over the model output; non-zero = inside R. */
  request: Uint8Array
  classId: number
  /** Echoed into the result. */
  id?: string
}

/** Rejects what cannot be explained before any tensor is made, so a bad request never costs a batch. */
export function validateRequest(model: SegmentationModel, r: SaliencyRequest, index: number): void {
  const { image } = r
  const [mh, mw, mc] = model.inputShape
  if (image.data.length !== image.height * image.width * image.channels) {
    throw new AppError('INVALID_PARAMETERS', `request ${index}: image data has ${image.data.length} values, expected ${image.height}×${image.width}×${image.channels}`, { index })
  }
  if (image.channels !== mc || (mh !== null && image.height !== mh) || (mw !== null && image.width !== mw)) {
    throw new AppError(
      'REQUEST_SIZE_MISMATCH',
      `request ${index}: image is ${image.height}×${image.width}×${image.channels}, the model takes ${mh ?? 'any'}×${mw ?? 'any'}×${mc}`,
      { index }
    )
  }
  if (r.request.length !== image.height * image.width) {
    throw new AppError('REQUEST_SIZE_MISMATCH', `request ${index}: request mask has ${r.request.length} pixels, the image ${image.height}×${image.width}`, { index })
  }
  if (!Number.isInteger(r.classId) || r.classId < 0 || r.classId >= model.numClasses) {
    throw new AppError('INVALID_PARAMETERS', `request ${index}: class ${r.classId} is outside 0..${model.numClasses - 1}`, { index })
  }
  if (!r.request.some((v) => v !== 0)) {
    throw new AppError('EMPTY_REQUEST_MASK', `request ${index}: the request mask is empty`, { index })
  }
}

/**
 * Requests that can share one forward/backward pass: same image size, in input order, at most `maxBatch` each.
 * Returns indices into the input list.
 */
export function planBatches(requests: SaliencyRequest[], maxBatch: number): number[][] {
  const bySize = new Map<string, number[]>()
  requests.forEach((r, i) => {
    const key = `${r.image.height}x${r.image.width}`
    const list = bySize.get(key)
    if (list) list.push(i)
    else bySize.set(key, [i])
  })
  const batches: number[][] = []
  for (const list of bySize.values()) {
    for (let i = 0; i < list.length; i += maxBatch) batches.push(list.slice(i, i + maxBatch))
  }
  return batches
}

/** The tensors every method needs for one batch. */
export interface BatchTensors {
  /** [B, H, W, C] */
  images: tf.Tensor4D
  /** [B, H, W, 1], 0/1 */
  requestMasks: tf.Tensor4D
  /** [B, 1, 1, K] one-hot of each request's class, to pick f_c per request in one op. */
  classOneHot: tf.Tensor4D
  height: number
  width: number
  channels: number
}

export function batchTensors(model: SegmentationModel, requests: SaliencyRequest[]): BatchTensors {
  const { height, width, channels } = requests[0].image
  const b = requests.length
  const pix = new Float32Array(b * height * width * channels)
  const req = new Float32Array(b * height * width)
  requests.forEach((r, i) => {
    pix.set(r.image.data, i * height * width * channels)
    for (let p = 0; p < height * width; p++) req[i * height * width + p] = r.request[p] !== 0 ? 1 : 0
  })
  return {
    images: tf.tensor4d(pix, [b, height, width, channels]),
    requestMasks: tf.tensor4d(req, [b, height, width, 1]),
    classOneHot: tf.tidy(() => tf.oneHot(tf.tensor1d(requests.map((r) => r.classId), 'int32'), model.numClasses).toFloat().reshape([b, 1, 1, model.numClasses])),
    height,
    width,
    channels
  }
}

export function disposeBatch(t: BatchTensors): void {
  tf.dispose([t.images, t.requestMasks, t.classOneHot])
}

/** f_c per request: [B, H, W]. Checks the output grid matches the input grid, which R assumes. */
export function classProbabilities(model: SegmentationModel, x: tf.Tensor4D, classOneHot: tf.Tensor4D): tf.Tensor3D {
  const f = model.predict(x)
  if (f.shape[1] !== x.shape[1] || f.shape[2] !== x.shape[2] || f.shape[3] !== model.numClasses) {
    throw new AppError(
      'MODEL_OUTPUT_MISMATCH',
      `model output ${f.shape.slice(1).join('×')} does not match input ${x.shape[1]}×${x.shape[2]} with ${model.numClasses} classes`
    )
  }
  return tf.sum(tf.mul(f, classOneHot), 3) as tf.Tensor3D
}

/** S(x,R,c) = ‖R∘f_c(x)‖₁/‖R‖₁ per request: [B]. Probabilities are non-negative, so the L1 norm is a sum. */
export function requestScore(fc: tf.Tensor3D, requestMasks: tf.Tensor4D): tf.Tensor1D {
  const r = requestMasks.squeeze([3])
  return tf.div(tf.sum(tf.mul(r, fc), [1, 2]), tf.sum(r, [1, 2])) as tf.Tensor1D
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AppError('CANCELLED', 'saliency computation cancelled')
}
