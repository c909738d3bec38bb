import type { SaliencyParams, SaliencyPresetName, SaliencyResult } from '@common/saliency'
import type { RunHooks, SaliencyEngine } from './saliencyEngine'
import type { SaliencyRequest } from '../saliency'
import type { ExplanationInput } from '../store/repositories/explanations'
import type { SegmentRecord } from '../store/repositories/segments'

/**
 * What an explanation is stored under: the image screen's run and an audit's item are the same record, so the
 * explanations list, the stats and the exports read both alike.
 */
export interface ExplainedSegment {
  imageId: number
  modelId: number
  /** The stored segment explained, or null for a drawn request or a union of several segments. */
  segmentId: number | null
  /** The dataset's class id (the request was answered on the model's channel for it). */
  classId: number
  /** R, at image size. */
  request: Uint8Array
  preset: SaliencyPresetName
  /** An audit's item: the job and item the record completes, so a resumed job skips it. */
  job?: { jobId: number; itemKey: string }
  /**
   * An audit's segment: its classes and area are stored beside the numbers, so the statistics group explanations
   * without a join. The image screen stores the result's numbers as they are.
   */
  audited?: Pick<SegmentRecord, 'kind' | 'gtClass' | 'predClass' | 'area'>
}

/** One request through the engine: the image screen runs one, an audit one at a time once a batch has failed. */
export async function explainSegment(engine: SaliencyEngine, request: Parameters<SaliencyEngine['saliency']>[0][number], params: SaliencyParams, hooks: RunHooks = {}): Promise<SaliencyResult> {
  const [result] = await engine.saliency([request], params, hooks)
  return result
}

/** The stored record of an explanation: the low-resolution mask, the parameters used (with the preset), a summary. */
export function explanationRecord(subject: ExplainedSegment, r: SaliencyResult): ExplanationInput {
  const { mask, upsampled: _upsampled, params, ...numbers } = r
  return {
    imageId: subject.imageId,
    modelId: subject.modelId,
    segmentId: subject.segmentId,
    ...(subject.job ? { jobId: subject.job.jobId, jobItemKey: subject.job.itemKey } : {}),
    method: r.method,
    classId: subject.classId,
    request: subject.request,
    params: { ...params, preset: subject.preset },
    saliency: mask,
    saliencyHeight: r.maskHeight,
    saliencyWidth: r.maskWidth,
    summary: subject.audited
      ? {
          kind: subject.audited.kind,
          gtClass: subject.audited.gtClass,
          predClass: subject.audited.predClass,
          area: subject.audited.area,
          scoreOriginal: r.scoreOriginal,
          scorePerturbed: r.scorePerturbed,
          preservation: r.preservation,
          maskL1: r.maskL1,
          recovered: r.recovered,
          faithfulness: r.faithfulness ?? null,
          stepsRun: r.stepsRun,
          timeMs: r.timeMs
        }
      : numbers
  }
}
