import type { ExplanationView } from '@common/methods/viewer'
import { maskToRuns } from '@common/maskRuns'
import type { ExplanationRecord } from '../store/repositories/explanations'

/** The stored row as the screen gets it: the map at its own resolution, drawn at image size on the screen. */
export function explanationView(e: ExplanationRecord, width: number, height: number): ExplanationView {
  return {
    id: e.id,
    imageId: e.imageId,
    modelId: e.modelId,
    segmentId: e.segmentId,
    method: e.method,
    classId: e.classId,
    params: e.params,
    summary: e.summary,
    width,
    height,
    saliencyHeight: e.saliencyHeight,
    saliencyWidth: e.saliencyWidth,
    saliency: e.saliency,
    request: maskToRuns(e.request),
    createdAt: e.createdAt
  }
}
