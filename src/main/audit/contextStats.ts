import { IGNORE_LABEL } from '@common/datasets'
import { connectedComponents } from '../datasets/segments/components'
import { uniform01 } from '../prng'

/**
 * The arithmetic of the context statistics (paper Sec. 5, Fig. 6 and Table 1), on plain arrays so it can be
 * checked by hand. Class ids index the arrays directly (ids are small integers: train ids, VOC ids).
 */

/** Pixels within Euclidean distance ≤ r of a mask pixel (the mask itself included). */
export function dilateDisk(mask: Uint8Array, width: number, height: number, r: number): Uint8Array {
  const out = new Uint8Array(mask.length)
  const offsets: [number, number][] = []
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= r * r) offsets.push([dx, dy])
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x
      if (!mask[p]) continue
      out[p] = 1
      // Interior pixels stamp nothing new: only pixels with a 4-neighbour outside the mask reach outside it.
      const interior = x > 0 && x < width - 1 && y > 0 && y < height - 1 && mask[p - 1] && mask[p + 1] && mask[p - width] && mask[p + width]
      if (interior) continue
      for (const [dx, dy] of offsets) {
        const qx = x + dx
        const qy = y + dy
        if (qx >= 0 && qx < width && qy >= 0 && qy < height) out[qy * width + qx] = 1
      }
    }
  }
  return out
}

/** The baseline region of Fig. 6: a fixed dilation of the request's contour, outside the request. */
export function contourRing(mask: Uint8Array, width: number, height: number, r: number): Uint8Array {
  const ring = dilateDisk(mask, width, height, r)
  for (let i = 0; i < ring.length; i++) if (mask[i]) ring[i] = 0
  return ring
}

/**
 * The rest of the requested object: pixels of its ground-truth class connected (4-neighbourhood, through that
 * class) to the request, outside the request. A request R = GT(g) ∩ prediction(p) rarely covers its whole object;
 * the uncovered part (a rider's leg predicted as bicycle) is the object itself, not context it was read from.
 * Touching objects of the same class merge here, as they do in a semantic label map without instance ids.
 */
export function requestedObject(gt: Uint16Array, request: Uint8Array, width: number, height: number, classId: number): Uint8Array {
  // One component key for the request and its class; everything else is excluded (-1).
  const keys = new Int8Array(request.length)
  for (let i = 0; i < request.length; i++) keys[i] = request[i] || gt[i] === classId ? 0 : -1
  const { labels } = connectedComponents(keys, width, height, 4)
  const touched = new Set<number>()
  for (let i = 0; i < request.length; i++) if (request[i]) touched.add(labels[i])
  const object = new Uint8Array(request.length)
  for (let i = 0; i < request.length; i++) if (!request[i] && touched.has(labels[i])) object[i] = 1
  return object
}

/**
 * Per context class (array index = class id): saliency mass, context pixels, and baseline-ring pixels; and the
 * saliency on the requested object outside the request, which is counted apart from every context class.
 */
export interface ContextCounts {
  mass: Float64Array
  pixels: Float64Array
  ring: Float64Array
  objectMass: number
}

export function emptyCounts(classCount: number): ContextCounts {
  return { mass: new Float64Array(classCount), pixels: new Float64Array(classCount), ring: new Float64Array(classCount), objectMass: 0 }
}

export function addCounts(into: ContextCounts, c: ContextCounts): ContextCounts {
  for (let k = 0; k < into.mass.length; k++) {
    into.mass[k] += c.mass[k]
    into.pixels[k] += c.pixels[k]
    into.ring[k] += c.ring[k]
  }
  into.objectMass += c.objectMass
  return into
}

/**
 * One explanation's context: every pixel outside the request R (and outside `object`, when given) whose ground
 * truth is a class (not ignored) contributes its saliency to its GT class; the ring of the dilated contour
 * contributes one per pixel. Saliency on `object` goes to objectMass.
 */
export function explanationCounts(input: {
  gt: Uint16Array
  request: Uint8Array
  /** Saliency at image resolution (already upsampled). */
  saliency: Float32Array
  width: number
  height: number
  contourRadius: number
  classCount: number
  ignoreIds?: readonly number[]
  /** The rest of the requested object (see requestedObject), left out of the context; none = the paper's C = 1 − R. */
  object?: Uint8Array
}): ContextCounts {
  const { gt, request, saliency, width, height, classCount } = input
  const n = width * height
  if (gt.length !== n || request.length !== n || saliency.length !== n) {
    throw new RangeError(`context maps disagree in size: gt ${gt.length}, request ${request.length}, saliency ${saliency.length}, image ${width}×${height}`)
  }
  const ignored = new Set([IGNORE_LABEL, ...(input.ignoreIds ?? [])])
  const counts = emptyCounts(classCount)
  const ring = contourRing(request, width, height, input.contourRadius)
  const object = input.object
  if (object && object.length !== n) throw new RangeError(`object mask has ${object.length} pixels, image ${width}×${height}`)
  for (let i = 0; i < n; i++) {
    if (request[i]) continue
    if (object?.[i]) {
      counts.objectMass += saliency[i]
      continue
    }
    const k = gt[i]
    if (k >= classCount || ignored.has(k)) continue
    counts.mass[k] += saliency[i]
    counts.pixels[k] += 1
    if (ring[i]) counts.ring[k] += 1
  }
  return counts
}

export interface ContextSummary {
  /** Saliency on the rest of the requested object, as a part of all saliency outside the request. */
  objectShare: number
  share: number[]
  baselineShare: number[]
  lift: (number | null)[]
  density: (number | null)[]
  densityRatio: (number | null)[]
}

/**
 * Fig. 6 normalisation: sums over all explanations first, then one division (so large and small requests weigh
 * by their saliency, as the paper's "normalise by the sum of all saliency values across all classes and images").
 */
export function summarise(c: ContextCounts): ContextSummary {
  const K = c.mass.length
  const totalMass = c.mass.reduce((a, b) => a + b, 0)
  const totalRing = c.ring.reduce((a, b) => a + b, 0)
  const totalPixels = c.pixels.reduce((a, b) => a + b, 0)
  const meanDensity = totalPixels > 0 ? totalMass / totalPixels : 0
  const share: number[] = []
  const baselineShare: number[] = []
  const lift: (number | null)[] = []
  const density: (number | null)[] = []
  const densityRatio: (number | null)[] = []
  for (let k = 0; k < K; k++) {
    const s = totalMass > 0 ? c.mass[k] / totalMass : 0
    const b = totalRing > 0 ? c.ring[k] / totalRing : 0
    share.push(s)
    baselineShare.push(b)
    lift.push(b > 0 ? s / b : null)
    const d = c.pixels[k] > 0 ? c.mass[k] / c.pixels[k] : null
    density.push(d)
    densityRatio.push(d === null || meanDensity <= 0 ? null : d / meanDensity)
  }
  const outside = totalMass + c.objectMass
  return { objectShare: outside > 0 ? c.objectMass / outside : 0, share, baselineShare, lift, density, densityRatio }
}

/** Linear-interpolation quantile of sorted values (R's type 7). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN
  const h = (sorted.length - 1) * q
  const lo = Math.floor(h)
  const hi = Math.min(sorted.length - 1, lo + 1)
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo])
}

/**
 * Percentile bootstrap over units (images): resample units with replacement, recompute the statistic vector from
 * the resample, and take the central `level` interval of each element. Non-finite replicates (a resample
 * where a ratio is undefined) are left out of that element's interval.
 */
export function bootstrapIntervals<U>(
  units: readonly U[],
  statistic: (sample: readonly U[]) => number[],
  options: { samples: number; seed: number; level: number }
): [number, number][] {
  if (units.length === 0) return []
  const random = uniform01(options.seed)
  const replicates: number[][] = []
  const sample = new Array<U>(units.length)
  for (let b = 0; b < options.samples; b++) {
    for (let i = 0; i < units.length; i++) sample[i] = units[Math.floor(random() * units.length)]
    replicates.push(statistic(sample))
  }
  const width = replicates[0]?.length ?? 0
  const alpha = (1 - options.level) / 2
  const out: [number, number][] = []
  for (let j = 0; j < width; j++) {
    const values = Float64Array.from(replicates.map((r) => r[j]).filter((v) => Number.isFinite(v))).sort()
    out.push(values.length ? [quantile(values, alpha), quantile(values, 1 - alpha)] : [NaN, NaN])
  }
  return out
}
