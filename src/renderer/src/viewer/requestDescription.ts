import type { ExplanationView, SegmentView } from '@common/methods/viewer'
import { runsArea } from '@common/maskRuns'
import type { ClassDef } from '@common/types'
import { classNameIn } from './explanationSummary'

type DescribedSegment = Pick<SegmentView, 'id' | 'kind' | 'gtClass' | 'predClass'>

/** What a segment is, e.g. "rider → person (misclassified)": the error a user came from Error cases to explain. */
export function segmentPair(s: DescribedSegment | undefined, classes: ClassDef[]): string | null {
  if (!s || s.gtClass === null || s.predClass === null) return null
  return `${classNameIn(classes, s.gtClass)} → ${classNameIn(classes, s.predClass)} (${s.kind})`
}

export interface ShownRequest {
  id: number
  /** e.g. "segment #12, 310 px" */
  text: string
  pair: string | null
  className: string
}

/**
 * With no request being edited, the canvas outlines the shown explanation's request: the panel describes that one,
 * e.g. "segment #12, 310 px · rider → person (misclassified)".
 */
export function describeShownRequest(e: ExplanationView, segments: DescribedSegment[], classes: ClassDef[]): ShownRequest {
  const s = e.segmentId !== null ? segments.find((x) => x.id === e.segmentId) : undefined
  const what = e.segmentId !== null ? `segment #${e.segmentId}` : 'drawn mask or several segments'
  return { id: e.id, text: `${what}, ${runsArea(e.request)} px`, pair: segmentPair(s, classes), className: classNameIn(classes, e.classId) }
}
