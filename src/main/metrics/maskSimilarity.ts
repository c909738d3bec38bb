/**
 * How alike two saliency masks of the same request are, for the sanity check of Adebayo et al. (2018): Spearman
 * rank correlation and Pearson correlation of the absolute values, over the mask's context cells only.
 */

/** 1-based ranks; tied values share the mean of their positions (the usual Spearman convention). */
export function ranks(v: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: v.length }, (_, i) => i).sort((i, j) => v[i] - v[j])
  const out = new Float64Array(v.length)
  for (let s = 0; s < order.length; ) {
    let e = s + 1
    while (e < order.length && v[order[e]] === v[order[s]]) e++
    const mean = (s + 1 + e) / 2
    for (let k = s; k < e; k++) out[order[k]] = mean
    s = e
  }
  return out
}

/** Pearson correlation; null when either side is constant (no variance, no correlation defined). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  if (a.length !== b.length) throw new RangeError(`pearson: lengths ${a.length} and ${b.length} differ`)
  const n = a.length
  if (n < 2) return null
  let ma = 0
  let mb = 0
  for (let i = 0; i < n; i++) {
    ma += a[i]
    mb += b[i]
  }
  ma /= n
  mb /= n
  let sab = 0
  let saa = 0
  let sbb = 0
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma
    const db = b[i] - mb
    sab += da * db
    saa += da * da
    sbb += db * db
  }
  if (saa === 0 || sbb === 0) return null
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)))
}

export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  return pearson(ranks(a), ranks(b))
}

/**
 * A mask that carries no ordering: every value equal up to float rounding of its own magnitude (an empty grid
 * saliency mask, a zero gradient).
 */
export function isConstant(v: ArrayLike<number>): boolean {
  let lo = Infinity
  let hi = -Infinity
  for (let i = 0; i < v.length; i++) {
    lo = Math.min(lo, v[i])
    hi = Math.max(hi, v[i])
  }
  return v.length === 0 || hi - lo <= 1e-6 * Math.max(Math.abs(hi), Math.abs(lo))
}

/**
 * Which cells of a maskHeight×maskWidth grid over an H×W image hold no pixel of the request. Context saliency and
 * the context form of VG/IG/SG leave the request at zero whatever the model is, so cells touching it would agree
 * between any two masks and make a random network's mask look like the trained one's.
 */
export function contextCells(request: ArrayLike<number>, height: number, width: number, maskHeight: number, maskWidth: number): Uint8Array {
  const keep = new Uint8Array(maskHeight * maskWidth).fill(1)
  for (let y = 0; y < height; y++) {
    const cy = Math.min(maskHeight - 1, Math.floor((y * maskHeight) / height))
    for (let x = 0; x < width; x++) {
      if (request[y * width + x] !== 0) keep[cy * maskWidth + Math.min(maskWidth - 1, Math.floor((x * maskWidth) / width))] = 0
    }
  }
  return keep
}

export interface MaskComparison {
  spearman: number
  pearson: number
  /** The second mask is constant over the kept cells: both correlations are then counted as 0. */
  collapsed: boolean
}

/**
 * Compare |b| with |a| over the cells `keep` marks (all when omitted). Null when `a`, the reference, is constant
 * there: it has no ordering to keep or lose. A constant `b` is "collapsed" and scores 0: it keeps none of the
 * reference's ordering, which is a change, not an undefined case to drop (dropping it would leave only the masks
 * that did not collapse and bias the mean up).
 */
export function compareMasks(a: ArrayLike<number>, b: ArrayLike<number>, keep?: ArrayLike<number>): MaskComparison | null {
  if (a.length !== b.length) throw new RangeError(`compareMasks: lengths ${a.length} and ${b.length} differ`)
  const xa: number[] = []
  const xb: number[] = []
  for (let i = 0; i < a.length; i++) {
    if (keep && !keep[i]) continue
    xa.push(Math.abs(a[i]))
    xb.push(Math.abs(b[i]))
  }
  if (xa.length < 2 || isConstant(xa)) return null
  if (isConstant(xb)) return { spearman: 0, pearson: 0, collapsed: true }
  return { spearman: spearman(xa, xb) ?? 0, pearson: pearson(xa, xb) ?? 0, collapsed: false }
}
