import type { Db } from '../database'
import { bufferToFloat32, decodeMask, encodeMask, float32ToBuffer } from '../maskCodec'
import { parseJson } from './json'

export interface ExplanationInput {
  imageId: number
  modelId: number
  segmentId: number | null
  jobId?: number | null
  jobItemKey?: string | null
  method: string
  classId: number
  request: Uint8Array
  params: Record<string, unknown>
  /** Saliency at its native (optimised) resolution; upsampling is a view concern. */
  saliency: Float32Array
  saliencyHeight: number
  saliencyWidth: number
  summary: Record<string, unknown>
}

export interface ExplanationRecord extends ExplanationInput {
  id: number
  createdAt: string
}

interface Row {
  id: number
  image_id: number
  model_id: number
  segment_id: number | null
  job_id: number | null
  job_item_key: string | null
  method: string
  class_id: number
  request: Buffer
  params: string
  saliency: Buffer
  saliency_h: number
  saliency_w: number
  summary: string
  created_at: string
}

const toExplanation = (r: Row): ExplanationRecord => ({
  id: r.id,
  imageId: r.image_id,
  modelId: r.model_id,
  segmentId: r.segment_id,
  jobId: r.job_id,
  jobItemKey: r.job_item_key,
  method: r.method,
  classId: r.class_id,
  request: decodeMask(r.request),
  params: parseJson(r.params, {}),
  saliency: bufferToFloat32(r.saliency),
  saliencyHeight: r.saliency_h,
  saliencyWidth: r.saliency_w,
  summary: parseJson(r.summary, {}),
  createdAt: r.created_at
})

export class ExplanationRepo {
  constructor(private readonly db: Db) {}

  insert(e: ExplanationInput): number {
    if (e.saliency.length !== e.saliencyHeight * e.saliencyWidth) {
      throw new Error(`saliency has ${e.saliency.length} values, expected ${e.saliencyHeight}×${e.saliencyWidth}`)
    }
    return Number(
      this.db
        .prepare(
          `INSERT INTO explanations (image_id, model_id, segment_id, job_id, job_item_key, method, class_id, request, params,
             saliency, saliency_h, saliency_w, summary)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
        )
        .run(
          e.imageId,
          e.modelId,
          e.segmentId,
          e.jobId ?? null,
          e.jobItemKey ?? null,
          e.method,
          e.classId,
          encodeMask(e.request),
          JSON.stringify(e.params),
          float32ToBuffer(e.saliency),
          e.saliencyHeight,
          e.saliencyWidth,
          JSON.stringify(e.summary)
        ).lastInsertRowid
    )
  }

  get(id: number): ExplanationRecord | null {
    const row = this.db.prepare('SELECT * FROM explanations WHERE id = ?').get(id) as Row | undefined
    return row ? toExplanation(row) : null
  }

  /** The image an explanation belongs to, without reading its masks. */
  imageId(id: number): number | null {
    const row = this.db.prepare('SELECT image_id FROM explanations WHERE id = ?').get(id) as { image_id: number } | undefined
    return row?.image_id ?? null
  }

  forImage(imageId: number): ExplanationRecord[] {
    return (this.db.prepare('SELECT * FROM explanations WHERE image_id = ? ORDER BY id').all(imageId) as Row[]).map(toExplanation)
  }

  forJob(jobId: number): ExplanationRecord[] {
    return (this.db.prepare('SELECT * FROM explanations WHERE job_id = ? ORDER BY job_item_key').all(jobId) as Row[]).map(toExplanation)
  }
}
