import type { Bookmark, ClassDef, Note } from '@common/types'
import { datasetSource, loadImage } from '../datasets/import'
import { imageThumbnail, labelThumbnail, requestThumbnail, saliencyThumbnail, THUMB_WIDTH } from '../explain/thumbnails'
import type { Project } from '../store/project'
import type { ImageRecord } from '../store/repositories/datasets'
import type { ExplanationRecord } from '../store/repositories/explanations'
import type { SegmentRecord } from '../store/repositories/segments'

/**
 * What a bookmark stands for, whatever kind it is: the image it lies on, the segment (the bookmarked one, or the
 * explained one) and the explanation (the bookmarked one, or the latest of its segment or image). The Bookmarks
 * screen and the report's bookmarked cases show the same thing for a bookmark.
 */
export interface BookmarkSubject {
  image: ImageRecord
  segment: SegmentRecord | null
  explanation: ExplanationRecord | null
}

/** The image, segment and explanation of a bookmark; null when what it pointed at is no longer in the project. */
export function bookmarkSubject(project: Project, b: Pick<Bookmark, 'targetKind' | 'targetId'>): BookmarkSubject | null {
  let imageId: number | null = null
  let segmentId: number | null = null
  let explanation: ExplanationRecord | null = null
  if (b.targetKind === 'image') imageId = b.targetId
  else if (b.targetKind === 'segment') {
    imageId = project.segments.get(b.targetId)?.imageId ?? null
    segmentId = b.targetId
  } else {
    explanation = project.explanations.get(b.targetId)
    imageId = explanation?.imageId ?? null
    segmentId = explanation?.segmentId ?? null
  }
  const image = imageId === null ? null : project.datasets.image(imageId)
  if (!image) return null
  if (b.targetKind !== 'explanation') {
    const onImage = project.explanations.forImage(image.id)
    explanation = (segmentId === null ? onImage : onImage.filter((e) => e.segmentId === segmentId)).at(-1) ?? null
  }
  segmentId ??= explanation?.segmentId ?? null
  return { image, segment: segmentId === null ? null : project.segments.get(segmentId), explanation }
}

/** Notes on the bookmarked thing and on what it belongs to (a note on the image applies to its segment's bookmark too), oldest first. */
export function subjectNotes(project: Project, s: BookmarkSubject): Note[] {
  const targets: [Bookmark['targetKind'], number][] = [['image', s.image.id]]
  if (s.segment) targets.push(['segment', s.segment.id])
  if (s.explanation) targets.push(['explanation', s.explanation.id])
  return targets.flatMap(([kind, id]) => project.notes.list(kind, id)).sort((a, b) => a.id - b.id)
}

/** The classes (and their colours) of the dataset an image belongs to. */
export function imageClasses(project: Project, image: ImageRecord): ClassDef[] {
  return project.classSets.get(datasetSource(project, image.datasetId).classSetId)?.classes ?? []
}

export interface SubjectThumbnails {
  /** JPEG: the image, with the request outlined when there is one. */
  image: Buffer
  /** PNG: the model's stored prediction in class colours, or null when none is stored. */
  prediction: Buffer | null
  /** JPEG: the saliency in red over the image, the request outlined in blue (just the outline without an explanation). */
  saliency: Buffer
  /** Height over width. */
  aspect: number
}

/**
 * Image, prediction and saliency thumbnails of a bookmark's subject, `width` pixels wide. The prediction is the
 * explaining model's, else the segment's, else `modelId`'s, else the first model's that has one for the image.
 * Throws the loader's AppError when the image file cannot be read.
 */
export async function subjectThumbnails(
  project: Project,
  s: BookmarkSubject,
  opts: { width?: number; modelId?: number | null; classes?: ClassDef[]; outlineImage?: boolean } = {}
): Promise<SubjectThumbnails> {
  const width = opts.width ?? THUMB_WIDTH
  const rgb = await loadImage(project, s.image.id)
  const preferred = s.explanation?.modelId ?? s.segment?.modelId ?? opts.modelId ?? null
  let prediction = preferred === null ? null : project.predictions.get(preferred, s.image.id)
  if (!prediction && preferred === null) {
    for (const m of project.models.list()) {
      prediction = project.predictions.get(m.id, s.image.id)
      if (prediction) break
    }
  }
  const request = s.explanation?.request ?? (s.segment ? project.segments.mask(s.segment.id) : null)
  const classes = opts.classes ?? imageClasses(project, s.image)
  return {
    image: request && opts.outlineImage ? await requestThumbnail(rgb, request, width) : await imageThumbnail(rgb, width),
    prediction: prediction ? await labelThumbnail(prediction.labelMap, rgb.width, rgb.height, classes, width) : null,
    saliency: await saliencyThumbnail(rgb, s.explanation, request ?? new Uint8Array(rgb.width * rgb.height), width),
    aspect: rgb.height / rgb.width
  }
}
