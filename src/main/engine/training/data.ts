import { AppError } from '@common/errors'
import { epochSeed, shuffleInPlace, uniform01 } from '../../prng'

/** A segmentation training set in memory: images [n, h, w, c] and integer labels [n, h, w]. */
export interface SegmentationData {
  images: Float32Array
  labels: Int32Array | Uint8Array | Uint16Array
  /** [n, h, w, c] of the images; labels are [n, h, w]. */
  shape: [number, number, number, number]
}

export function checkData(data: SegmentationData, what = 'training data'): void {
  const [n, h, w, c] = data.shape
  if (data.images.length !== n * h * w * c) {
    throw new AppError('DATASET_INVALID', `${what}: ${data.images.length} image values for shape [${data.shape.join(', ')}]`)
  }
  if (data.labels.length !== n * h * w) {
    throw new AppError('LABEL_SIZE_MISMATCH', `${what}: ${data.labels.length} label values for ${n} images of ${h}×${w}`)
  }
}

/** The visiting order of `items` in one epoch (Fisher–Yates), a function of (seed, epoch) only, for resuming. */
export function shuffledOrder(items: ArrayLike<number>, seed: number, epoch: number): Int32Array {
  const order = Int32Array.from(items)
  shuffleInPlace(order, uniform01(epochSeed(seed, epoch)))
  return order
}

/** Splits indices 0..n-1 into training and validation parts; the validation part is a seeded random subset. */
export function splitTrainValidation(n: number, fraction: number, seed: number): { train: Int32Array; validation: Int32Array } {
  if (!(fraction >= 0 && fraction < 1)) throw new AppError('INVALID_PARAMETERS', `validationSplit must be in [0, 1), got ${fraction}`)
  const all = Int32Array.from({ length: n }, (_, i) => i)
  const order = shuffledOrder(all, seed ^ 0x5bd1e995, -1)
  const nVal = Math.round(n * fraction)
  const validation = order.slice(0, nVal).sort()
  const train = order.slice(nVal).sort()
  return { train, validation }
}

/** Number of batches in an epoch of `n` items (the last batch may be smaller). */
export function batchCount(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize)
}

/** Copies the items at `indices` into fresh contiguous arrays (labels as int32 for tf). */
export function gatherBatch(data: SegmentationData, indices: ArrayLike<number>): { images: Float32Array; labels: Int32Array; count: number } {
  const [, h, w, c] = data.shape
  const per = h * w * c
  const perLabel = h * w
  const images = new Float32Array(indices.length * per)
  const labels = new Int32Array(indices.length * perLabel)
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]
    images.set(data.images.subarray(i * per, (i + 1) * per), k * per)
    labels.set(data.labels.subarray(i * perLabel, (i + 1) * perLabel), k * perLabel)
  }
  return { images, labels, count: indices.length }
}

export function countValid(labels: ArrayLike<number>, ignoreLabel: number): number {
  let n = 0
  for (let i = 0; i < labels.length; i++) if (labels[i] !== ignoreLabel) n++
  return n
}

/** Labels must be class ids or the ignore label; anything else would silently train on garbage. */
export function checkLabels(labels: ArrayLike<number>, numClasses: number, ignoreLabel: number): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]
    if (v !== ignoreLabel && !(v >= 0 && v < numClasses)) {
      throw new AppError('UNKNOWN_CLASS_ID', `Label value ${v} is neither a class id below ${numClasses} nor the ignore label ${ignoreLabel}`, {
        value: v,
        index: i
      })
    }
  }
}
