import { SegmentOptionsSchema, type ExtractedSegmentKind, type SegmentOptionsInput } from '@common/datasets'
import { AppError } from '@common/errors'
import type { Project } from '@main/store/project'
import type { SegmentInput, SegmentSource } from '@main/store/repositories/segments'
import { loadInstanceMap, loadLabelMap, type LoadedLabelMap } from '../import/load'
import { segmentMask, segmentsForImage, type ExtractedSegment } from './segments'

const SOURCE: Record<ExtractedSegmentKind, SegmentSource> = {
  predicted: 'predicted',
  instance: 'gt-instance',
  correct: 'gt-and-predicted',
  misclassified: 'gt-and-predicted'
}

/** Full-image masks are built this many at a time, to bound memory at Cityscapes resolution. */
const CHUNK = 32

function meanOver(seg: ExtractedSegment, width: number, values: Float32Array): number {
  const [x0, y0, w, h] = seg.bbox
  let sum = 0
  let n = 0
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (seg.cropMask[y * w + x]) {
        sum += values[(y0 + y) * width + x0 + x]
        n++
      }
  return n ? sum / n : 0
}

/**
 * Store extracted segments of one image (all or none: one transaction). GT instances do not depend on a model and
 * are stored with model_id NULL; the others belong to modelId. With a confidence map, a model-derived segment
 * records the mean confidence inside it.
 */
export function storeSegments(
  project: Project,
  target: { imageId: number; modelId: number | null },
  segments: ExtractedSegment[],
  confidence?: Float32Array | null
): number[] {
  const image = project.datasets.image(target.imageId)
  if (!image) throw new AppError('NOT_FOUND', `no image with id ${target.imageId}`, { imageId: target.imageId })
  const { width, height } = image
  if (confidence && confidence.length !== width * height) {
    throw new AppError('REQUEST_SIZE_MISMATCH', `confidence map has ${confidence.length} pixels, image ${target.imageId} is ${width}×${height}`)
  }
  const row = (s: ExtractedSegment): SegmentInput => {
    const fromModel = s.kind !== 'instance'
    if (fromModel && target.modelId === null) throw new AppError('INVALID_PARAMETERS', `a ${s.kind} segment needs the model it came from`)
    return {
      imageId: target.imageId,
      modelId: fromModel ? target.modelId : null,
      source: SOURCE[s.kind],
      gtClass: s.gtClass,
      predClass: s.predClass,
      kind: s.kind,
      area: s.area,
      bbox: s.bbox,
      mask: segmentMask(s, width, height),
      confidence: fromModel && confidence ? meanOver(s, width, confidence) : null
    }
  }
  return project.transaction(() => {
    const ids: number[] = []
    for (let i = 0; i < segments.length; i += CHUNK) ids.push(...project.segments.insertMany(segments.slice(i, i + CHUNK).map(row)))
    return ids
  })
}

export interface ExtractResult {
  ids: number[]
  byKind: Record<ExtractedSegmentKind, number>
  /** Kinds not extracted because this image (and model) already has segments of that kind. */
  alreadyStored: ExtractedSegmentKind[]
  /** Kinds not extracted because an input is missing (no prediction, no label, no instance map). */
  unavailable: ExtractedSegmentKind[]
}

/**
 * Extract an image's segments from its GT label map, instance map and a model's prediction (the stored one unless
 * given) and store them. Kinds already stored for this image and model are left alone rather than duplicated or
 * replaced: explanations point at segment ids.
 */
export async function extractImageSegments(
  project: Project,
  input: {
    imageId: number
    modelId: number | null
    options?: SegmentOptionsInput
    prediction?: { labelMap: Uint16Array; confidence?: Float32Array | null }
    /** The GT label map when the caller has read it already; null when it could not be read (no GT kinds then). */
    gt?: LoadedLabelMap | null
  }
): Promise<ExtractResult> {
  const options = SegmentOptionsSchema.parse(input.options ?? {})
  const image = project.datasets.image(input.imageId)
  if (!image) throw new AppError('NOT_FOUND', `no image with id ${input.imageId}`, { imageId: input.imageId })
  const existing = project.segments.storedKinds(input.imageId, input.modelId)
  const alreadyStored = options.kinds.filter((k) => existing.has(k))
  const kinds = options.kinds.filter((k) => !existing.has(k))
  const needsGt = kinds.some((k) => k !== 'predicted')
  const needsPred = kinds.some((k) => k !== 'instance')

  const gt: LoadedLabelMap | null = !needsGt || !image.labelPath ? null : input.gt !== undefined ? input.gt : await loadLabelMap(project, input.imageId)
  const instances = kinds.includes('instance') && gt ? await loadInstanceMap(project, input.imageId, gt) : null
  let prediction = input.prediction ?? null
  if (!prediction && needsPred && input.modelId !== null) prediction = project.predictions.get(input.modelId, input.imageId)
  if (prediction && prediction.labelMap.length !== image.width * image.height) {
    throw new AppError('REQUEST_SIZE_MISMATCH', `prediction has ${prediction.labelMap.length} pixels, image ${input.imageId} is ${image.width}×${image.height}`)
  }

  const unavailable = kinds.filter((k) => (k === 'instance' ? !instances : k === 'predicted' ? !prediction : !prediction || !gt))
  const segments =
    kinds.length === 0
      ? []
      : segmentsForImage(
          { width: image.width, height: image.height, gt: gt?.data ?? null, pred: prediction?.labelMap ?? null, instances },
          { ...options, kinds: kinds as typeof options.kinds }
        )
  const ids = segments.length ? storeSegments(project, { imageId: input.imageId, modelId: input.modelId }, segments, prediction?.confidence) : []
  const byKind: Record<ExtractedSegmentKind, number> = { predicted: 0, instance: 0, correct: 0, misclassified: 0 }
  for (const s of segments) byKind[s.kind]++
  return { ids, byKind, alreadyStored, unavailable }
}
