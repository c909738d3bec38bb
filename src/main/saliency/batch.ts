import { AppError } from '@common/errors'
import type { BatchGeometry, SegmentationModel } from './model'

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

/** The arrays every method needs for one batch, in the layouts of the model interface. */
export interface BatchArrays extends BatchGeometry {
  /** [B, H, W, C] */
  images: Float32Array
  /** [B, H, W], 0/1 */
  requestMasks: Float32Array
  /** [B, K] one-hot of each request's class, to pick f_c per request. */
  classOneHot: Float32Array
  /** ‖R‖₁ per request. */
  requestArea: Float64Array
}

export function batchArrays(model: SegmentationModel, requests: SaliencyRequest[]): BatchArrays {
  const { height, width, channels } = requests[0].image
  const b = requests.length
  const hw = height * width
  const images = new Float32Array(b * hw * channels)
  const requestMasks = new Float32Array(b * hw)
  const classOneHot = new Float32Array(b * model.numClasses)
  const requestArea = new Float64Array(b)
  requests.forEach((r, i) => {
    images.set(r.image.data, i * hw * channels)
    for (let p = 0; p < hw; p++) {
      if (r.request[p] === 0) continue
      requestMasks[i * hw + p] = 1
      requestArea[i]++
    }
    classOneHot[i * model.numClasses + r.classId] = 1
  })
  return { batch: b, height, width, channels, images, requestMasks, classOneHot, requestArea }
}

/** f_c per request, [B, H, W], for images laid out like the batch. Checks the output size, which R assumes. */
export async function classProbabilities(model: SegmentationModel, images: Float32Array, batch: BatchArrays): Promise<Float32Array> {
  const { batch: b, height, width, channels } = batch
  const k = model.numClasses
  const f = await model.predict(images, { batch: b, height, width, channels })
  const hw = height * width
  if (f.length !== b * hw * k) {
    throw new AppError('MODEL_OUTPUT_MISMATCH', `model output has ${f.length} values, expected ${b}×${height}×${width}×${k} (input size, ${k} classes)`)
  }
  const fc = new Float32Array(b * hw)
  for (let i = 0; i < b; i++) {
    let c = 0
    while (batch.classOneHot[i * k + c] !== 1) c++
    for (let p = i * hw; p < (i + 1) * hw; p++) fc[p] = f[p * k + c]
  }
  return fc
}

/** S(x,R,c) = ‖R∘f_c(x)‖₁/‖R‖₁ per request. Probabilities are non-negative, so the L1 norm is a sum. */
export function requestScores(fc: Float32Array, batch: BatchArrays): number[] {
  const hw = batch.height * batch.width
  return Array.from({ length: batch.batch }, (_, i) => {
    let s = 0
    for (let p = i * hw; p < (i + 1) * hw; p++) if (batch.requestMasks[p] !== 0) s += fc[p]
    return Math.fround(s / batch.requestArea[i])
  })
}

/** What a cancelled saliency computation says (throwIfAborted in ../cancellation). */
export const SALIENCY_CANCELLED = 'saliency computation cancelled'
