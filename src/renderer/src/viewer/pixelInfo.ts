import type { ClassDef } from '@common/types'
import { classNameIn } from './explanationSummary'
import { segmentAt, type PickableSegment } from './planes'

export interface PixelInfo {
  x: number
  y: number
  /** Class names under the pixel; null where the image has no such plane. */
  gt: string | null
  pred: string | null
  /** e.g. "misclassified #12": the smallest segment there, the one a click would pick. */
  segment: string | null
}

/** What lies under one pixel of the image: its classes and the segment a click there would pick. */
export function pixelInfo(
  p: { x: number; y: number },
  image: { width: number; classes: ClassDef[]; gt: Uint8Array | null; pred: Uint8Array | null; segments: (PickableSegment & { kind: string })[] }
): PixelInfo {
  const i = p.y * image.width + p.x
  const seg = segmentAt(image.segments, p.x, p.y)
  return {
    x: p.x,
    y: p.y,
    gt: image.gt ? classNameIn(image.classes, image.gt[i]) : null,
    pred: image.pred ? classNameIn(image.classes, image.pred[i]) : null,
    segment: seg ? `${seg.kind} #${seg.id}` : null
  }
}
