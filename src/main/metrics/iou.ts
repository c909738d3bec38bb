import { AppError } from '@common/errors'

/**
 * Intersection over union from a confusion matrix (rows: ground truth, columns: prediction), accumulated over
 * any number of label maps, as IoU is defined over a whole test set rather than averaged over images.
 * Pixels whose ground truth is an ignore id are skipped; ignore ids may lie outside [0, classes) (e.g. 255).
 */
export class ConfusionMatrix {
  readonly classes: number
  readonly ignoreIds: readonly number[]
  /** classes × classes pixel counts, row-major: counts[gt * classes + pred]. */
  readonly counts: Float64Array

  constructor(classes: number, ignoreIds: readonly number[] = []) {
    if (!Number.isInteger(classes) || classes < 1) throw new RangeError(`class count must be a positive integer, got ${classes}`)
    this.classes = classes
    this.ignoreIds = [...ignoreIds]
    this.counts = new Float64Array(classes * classes)
  }

  add(groundTruth: ArrayLike<number>, prediction: ArrayLike<number>): this {
    if (groundTruth.length !== prediction.length) {
      throw new AppError(
        'LABEL_SIZE_MISMATCH',
        `ground truth has ${groundTruth.length} pixels, prediction ${prediction.length}`
      )
    }
    const k = this.classes
    const ignored = new Set(this.ignoreIds)
    for (let i = 0; i < groundTruth.length; i++) {
      const gt = groundTruth[i]
      if (ignored.has(gt)) continue
      const pred = prediction[i]
      if (!(gt >= 0 && gt < k && Number.isInteger(gt))) {
        throw new AppError('UNKNOWN_CLASS_ID', `ground-truth id ${gt} at pixel ${i}`)
      }
      if (!(pred >= 0 && pred < k && Number.isInteger(pred))) {
        throw new AppError('UNKNOWN_CLASS_ID', `predicted id ${pred} at pixel ${i}`)
      }
      this.counts[gt * k + pred]++
    }
    return this
  }

  merge(other: ConfusionMatrix): this {
    if (other.classes !== this.classes) throw new RangeError(`cannot merge ${other.classes} classes into ${this.classes}`)
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i]
    return this
  }

  /** TP / (TP + FP + FN); null when the class is in neither ground truth nor prediction (0/0). */
  iou(classId: number): number | null {
    const k = this.classes
    const tp = this.counts[classId * k + classId]
    let gtTotal = 0
    let predTotal = 0
    for (let j = 0; j < k; j++) {
      gtTotal += this.counts[classId * k + j]
      predTotal += this.counts[j * k + classId]
    }
    const union = gtTotal + predTotal - tp
    return union === 0 ? null : tp / union
  }

  perClassIoU(): (number | null)[] {
    return Array.from({ length: this.classes }, (_, c) => this.iou(c))
  }

  /** Mean over the given classes (default: all) whose IoU is defined; null when none is. */
  meanIoU(classIds?: readonly number[]): number | null {
    const ids = classIds ?? Array.from({ length: this.classes }, (_, c) => c)
    let sum = 0
    let n = 0
    for (const c of ids) {
      if (this.ignoreIds.includes(c)) continue
      const v = this.iou(c)
      if (v !== null) {
        sum += v
        n++
      }
    }
    return n === 0 ? null : sum / n
  }

  pixelAccuracy(): number | null {
    let correct = 0
    let total = 0
    for (let c = 0; c < this.classes; c++) correct += this.counts[c * this.classes + c]
    for (const v of this.counts) total += v
    return total === 0 ? null : correct / total
  }
}
