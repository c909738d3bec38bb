import {
  CITYSCAPES_REFERENCE_PIXELS,
  IGNORE_LABEL,
  MIN_AREA_FIG6,
  MIN_AREA_TABLE1,
  SegmentOptionsSchema,
  type Connectivity,
  type ExtractedSegmentKind,
  type MinArea,
  type SegmentOptionsInput
} from '@common/datasets'
import type { InstanceMap } from '../import/labels'
import { componentCropMask, connectedComponents } from './components'

/**
 * Segments as the paper's Sec. 5 uses them, computed from label maps (train ids, IGNORE_LABEL = ignored):
 *  - predicted: connected components of each predicted class;
 *  - instance: ground-truth instances, where an instance map exists;
 *  - correct / misclassified (Table 1): request = GT(g) ∩ prediction(p), one segment per connected component of
 *    that intersection, 'correct' when g = p, 'misclassified' otherwise. Per component rather than per (g, p)
 *    pair: the paper's examples (Fig. 1, Fig. 5) explain the misclassified part of one object, and a pair-wide
 *    union would merge unrelated objects across the image into one request.
 * Ignored pixels (GT or prediction 255, or an extra ignore id) never belong to a segment.
 */
export interface ExtractedSegment {
  kind: ExtractedSegmentKind
  gtClass: number | null
  predClass: number | null
  area: number
  /** [x, y, width, height] */
  bbox: [number, number, number, number]
  /**
   * Binary mask cropped to the bounding box (bbox width × height, row-major): full-image masks of a few hundred
   * segments at 1024×2048 would take hundreds of MB. segmentMask() expands it.
   */
  cropMask: Uint8Array
}

/** The segment's mask over the whole image (width × height, row-major), as the store and saliency requests take it. */
export function segmentMask(segment: Pick<ExtractedSegment, 'bbox' | 'cropMask'>, width: number, height: number): Uint8Array {
  const [x0, y0, w, h] = segment.bbox
  if (x0 + w > width || y0 + h > height) throw new RangeError(`segment bbox ${segment.bbox.join(',')} exceeds ${width}×${height}`)
  const mask = new Uint8Array(width * height)
  for (let y = 0; y < h; y++) mask.set(segment.cropMask.subarray(y * w, (y + 1) * w), (y0 + y) * width + x0)
  return mask
}

export interface ComponentOptions {
  connectivity?: Connectivity
  /** Segments smaller than this (pixels of this image) are dropped. */
  minArea?: number
  /** Values treated as ignored besides IGNORE_LABEL. */
  ignoreIds?: number[]
}

/**
 * A minimum area given at Cityscapes scale (1024×2048), scaled with the image's pixel count and rounded, at least
 * 1 px: 625 px at 1024×2048 is 156 px at 512×1024.
 */
export function scaledMinArea(minArea: MinArea, width: number, height: number, unscaled = false): number {
  const reference = minArea === 'table1' ? MIN_AREA_TABLE1 : minArea === 'fig6' ? MIN_AREA_FIG6 : minArea
  if (unscaled) return reference
  return Math.max(1, Math.round((reference * width * height) / CITYSCAPES_REFERENCE_PIXELS))
}

function ignoredLookup(ignoreIds: number[] | undefined): Uint8Array {
  const ignored = new Uint8Array(65536)
  ignored[IGNORE_LABEL] = 1
  for (const id of ignoreIds ?? []) ignored[id] = 1
  return ignored
}

function checkSize(map: ArrayLike<number>, width: number, height: number, what: string): void {
  if (map.length !== width * height) throw new RangeError(`${what} has ${map.length} pixels, expected ${width}×${height}`)
}

/** Connected components of each predicted class. */
export function predictedSegments(pred: Uint16Array, width: number, height: number, options: ComponentOptions = {}): ExtractedSegment[] {
  checkSize(pred, width, height, 'prediction')
  const ignored = ignoredLookup(options.ignoreIds)
  const keys = new Int32Array(pred.length)
  for (let i = 0; i < pred.length; i++) keys[i] = ignored[pred[i]] ? -1 : pred[i]
  const labeling = connectedComponents(keys, width, height, options.connectivity ?? 4)
  const minArea = options.minArea ?? 1
  const out: ExtractedSegment[] = []
  labeling.components.forEach((c, i) => {
    if (c.area < minArea) return
    out.push({ kind: 'predicted', gtClass: null, predClass: c.key, area: c.area, bbox: c.bbox, cropMask: componentCropMask(labeling, i) })
  })
  return out
}

/** Correct (g = p) and misclassified (g ≠ p) regions: connected components of GT(g) ∩ prediction(p). */
export function errorRegions(gt: Uint16Array, pred: Uint16Array, width: number, height: number, options: ComponentOptions = {}): ExtractedSegment[] {
  checkSize(gt, width, height, 'ground truth')
  checkSize(pred, width, height, 'prediction')
  const ignored = ignoredLookup(options.ignoreIds)
  // g·65536 + p is exact in a double and unique per (g, p) pair.
  const keys = new Float64Array(gt.length)
  for (let i = 0; i < gt.length; i++) keys[i] = ignored[gt[i]] || ignored[pred[i]] ? -1 : gt[i] * 65536 + pred[i]
  const labeling = connectedComponents(keys, width, height, options.connectivity ?? 4)
  const minArea = options.minArea ?? 1
  const out: ExtractedSegment[] = []
  labeling.components.forEach((c, i) => {
    if (c.area < minArea) return
    const g = Math.floor(c.key / 65536)
    const p = c.key - g * 65536
    out.push({ kind: g === p ? 'correct' : 'misclassified', gtClass: g, predClass: p, area: c.area, bbox: c.bbox, cropMask: componentCropMask(labeling, i) })
  })
  return out
}

/**
 * Ground-truth instances: all pixels of one instance id form one segment, connected or not (an occluded car split
 * in two is still one car). Pixels ignored in the GT label map are left out.
 */
export function gtInstanceSegments(instances: InstanceMap, gt: Uint16Array | null, options: { minArea?: number } = {}): ExtractedSegment[] {
  const { width, height, ids, classOf } = instances
  if (gt) checkSize(gt, width, height, 'ground truth')
  const stats = new Map<number, { area: number; x0: number; y0: number; x1: number; y1: number }>()
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      const id = ids[p]
      if (id === 0 || (gt && gt[p] === IGNORE_LABEL) || !classOf.has(id)) continue
      const s = stats.get(id)
      if (!s) stats.set(id, { area: 1, x0: x, y0: y, x1: x, y1: y })
      else {
        s.area++
        if (x < s.x0) s.x0 = x
        if (x > s.x1) s.x1 = x
        if (y < s.y0) s.y0 = y
        if (y > s.y1) s.y1 = y
      }
    }
  }
  const minArea = options.minArea ?? 1
  const out: ExtractedSegment[] = []
  for (const id of [...stats.keys()].sort((a, b) => a - b)) {
    const s = stats.get(id)!
    const cls = classOf.get(id)!
    if (s.area < minArea || cls === IGNORE_LABEL) continue
    const bw = s.x1 - s.x0 + 1
    const bh = s.y1 - s.y0 + 1
    const cropMask = new Uint8Array(bw * bh)
    for (let y = 0; y < bh; y++)
      for (let x = 0, p = (s.y0 + y) * width + s.x0; x < bw; x++, p++) if (ids[p] === id && !(gt && gt[p] === IGNORE_LABEL)) cropMask[y * bw + x] = 1
    out.push({ kind: 'instance', gtClass: cls, predClass: null, area: s.area, bbox: [s.x0, s.y0, bw, bh], cropMask })
  }
  return out
}

export interface SegmentInputs {
  width: number
  height: number
  gt?: Uint16Array | null
  pred?: Uint16Array | null
  instances?: InstanceMap | null
  /** Extra ignored values besides IGNORE_LABEL. */
  ignoreIds?: number[]
}

/** Every requested kind of segment an image's maps allow (kinds whose inputs are missing are skipped). */
export function segmentsForImage(inputs: SegmentInputs, optionsInput: SegmentOptionsInput = {}): ExtractedSegment[] {
  const options = SegmentOptionsSchema.parse(optionsInput)
  const { width, height, gt, pred, instances } = inputs
  const regionsMin = scaledMinArea(options.minAreaRegions, width, height, options.unscaled)
  const instancesMin = scaledMinArea(options.minAreaInstances, width, height, options.unscaled)
  const base = { connectivity: options.connectivity, ignoreIds: inputs.ignoreIds }
  const out: ExtractedSegment[] = []
  const want = new Set(options.kinds)
  if (want.has('predicted') && pred) out.push(...predictedSegments(pred, width, height, { ...base, minArea: instancesMin }))
  if (want.has('instance') && instances) out.push(...gtInstanceSegments(instances, gt ?? null, { minArea: instancesMin }))
  if ((want.has('correct') || want.has('misclassified')) && gt && pred) {
    out.push(...errorRegions(gt, pred, width, height, { ...base, minArea: regionsMin }).filter((s) => want.has(s.kind)))
  }
  return out
}
