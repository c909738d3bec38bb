/**
 * Confusion-matrix segmentation metrics over pixels whose label is not ignored. Kept in plain JS: the counts are
 * tiny next to the forward pass and must be exact across batches and workers.
 */
export class Confusion {
  readonly counts: Float64Array
  constructor(readonly numClasses: number) {
    this.counts = new Float64Array(numClasses * numClasses)
  }

  /** `predicted` and `labels` are per-pixel class ids of the same length. */
  add(predicted: ArrayLike<number>, labels: ArrayLike<number>, ignoreLabel: number): void {
    const k = this.numClasses
    for (let i = 0; i < labels.length; i++) {
      const t = labels[i]
      if (t === ignoreLabel || t < 0 || t >= k) continue
      this.counts[t * k + predicted[i]]++
    }
  }

  merge(other: Confusion): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i]
  }

  total(): number {
    let s = 0
    for (const v of this.counts) s += v
    return s
  }

  pixelAccuracy(): number {
    const k = this.numClasses
    let correct = 0
    for (let c = 0; c < k; c++) correct += this.counts[c * k + c]
    const t = this.total()
    return t > 0 ? correct / t : 0
  }

  /** IoU per class; NaN for classes absent from both labels and predictions. */
  iou(): number[] {
    const k = this.numClasses
    const out: number[] = []
    for (let c = 0; c < k; c++) {
      let row = 0
      let col = 0
      for (let j = 0; j < k; j++) {
        row += this.counts[c * k + j]
        col += this.counts[j * k + c]
      }
      const tp = this.counts[c * k + c]
      const union = row + col - tp
      out.push(union > 0 ? tp / union : NaN)
    }
    return out
  }

  /** Mean IoU over the classes that occur in labels or predictions. */
  meanIou(): number {
    const present = this.iou().filter((v) => !Number.isNaN(v))
    return present.length > 0 ? present.reduce((a, b) => a + b, 0) / present.length : 0
  }
}
