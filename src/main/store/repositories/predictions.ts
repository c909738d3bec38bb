import type { Db } from '../database'
import { decodePlane, encodePlane } from '../planeCodec'

export interface PredictionRecord {
  modelId: number
  imageId: number
  /** Class id per pixel, row-major at the image's size. */
  labelMap: Uint16Array
  /** Probability of the predicted class per pixel. */
  confidence: Float32Array
}

export class PredictionRepo {
  constructor(private readonly db: Db) {}

  /** Re-running a model over an image replaces its prediction rather than adding a second one. */
  upsert(p: PredictionRecord): void {
    this.db
      .prepare(
        `INSERT INTO predictions (model_id, image_id, label_map, confidence) VALUES (?, ?, ?, ?)
         ON CONFLICT(model_id, image_id) DO UPDATE SET label_map = excluded.label_map, confidence = excluded.confidence,
           created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`
      )
      .run(p.modelId, p.imageId, encodePlane(p.labelMap), encodePlane(p.confidence))
  }

  get(modelId: number, imageId: number): PredictionRecord | null {
    const row = this.db
      .prepare('SELECT label_map, confidence FROM predictions WHERE model_id = ? AND image_id = ?')
      .get(modelId, imageId) as { label_map: Buffer; confidence: Buffer } | undefined
    if (!row) return null
    return { modelId, imageId, labelMap: new Uint16Array(decodePlane(row.label_map).buffer), confidence: new Float32Array(decodePlane(row.confidence).buffer) }
  }

  /** The label map alone: the image view shows no confidence, and inflating a full-size one costs 50–100 ms. */
  labelMap(modelId: number, imageId: number): Uint16Array | null {
    const row = this.db.prepare('SELECT label_map FROM predictions WHERE model_id = ? AND image_id = ?').get(modelId, imageId) as { label_map: Buffer } | undefined
    return row ? new Uint16Array(decodePlane(row.label_map).buffer) : null
  }

  /** The model's predictions of a dataset's images, leaving out one split's when `exceptSplit` is given. */
  countForDataset(modelId: number, datasetId: number, exceptSplit?: string): number {
    const row = this.db
      .prepare(
        `SELECT COUNT(*) AS n FROM predictions p JOIN images i ON i.id = p.image_id
         WHERE p.model_id = ? AND i.dataset_id = ? AND (? IS NULL OR i.split != ?)`
      )
      .get(modelId, datasetId, exceptSplit ?? null, exceptSplit ?? null) as { n: number }
    return row.n
  }

  count(modelId: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM predictions WHERE model_id = ?').get(modelId) as { n: number }).n
  }
}
