import type { Db } from '../database'
import { decodeMask, encodeMask } from '../maskCodec'
import { parseJson } from './json'

export type SegmentSource = 'predicted' | 'gt-instance' | 'gt-and-predicted' | 'drawn'
export type SegmentKind = 'correct' | 'misclassified' | 'predicted' | 'instance' | 'drawn'

export interface SegmentInput {
  imageId: number
  modelId: number | null
  source: SegmentSource
  gtClass: number | null
  predClass: number | null
  kind: SegmentKind
  area: number
  bbox: [number, number, number, number]
  mask: Uint8Array
  confidence?: number | null
}

export interface SegmentRecord extends Omit<SegmentInput, 'mask' | 'confidence'> {
  id: number
  confidence: number | null
}

interface Row {
  id: number
  image_id: number
  model_id: number | null
  source: SegmentSource
  gt_class: number | null
  pred_class: number | null
  kind: SegmentKind
  area: number
  bbox: string
  confidence: number | null
}

const toSegment = (r: Row): SegmentRecord => ({
  id: r.id,
  imageId: r.image_id,
  modelId: r.model_id,
  source: r.source,
  gtClass: r.gt_class,
  predClass: r.pred_class,
  kind: r.kind,
  area: r.area,
  bbox: parseJson(r.bbox, [0, 0, 0, 0]),
  confidence: r.confidence
})

const COLUMNS = 'id, image_id, model_id, source, gt_class, pred_class, kind, area, bbox, confidence'

export class SegmentRepo {
  constructor(private readonly db: Db) {}

  insertMany(segments: SegmentInput[]): number[] {
    const stmt = this.db.prepare(
      `INSERT INTO segments (image_id, model_id, source, gt_class, pred_class, kind, area, bbox, mask, confidence)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    )
    return this.db.transaction(() =>
      segments.map((s) =>
        Number(
          stmt.run(s.imageId, s.modelId, s.source, s.gtClass, s.predClass, s.kind, s.area, JSON.stringify(s.bbox), encodeMask(s.mask), s.confidence ?? null)
            .lastInsertRowid
        )
      )
    )()
  }

  get(id: number): SegmentRecord | null {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM segments WHERE id = ?`).get(id) as Row | undefined
    return row ? toSegment(row) : null
  }

  mask(id: number): Uint8Array | null {
    const row = this.db.prepare('SELECT mask FROM segments WHERE id = ?').get(id) as { mask: Buffer } | undefined
    return row ? decodeMask(row.mask) : null
  }

  forImage(imageId: number): SegmentRecord[] {
    return (this.db.prepare(`SELECT ${COLUMNS} FROM segments WHERE image_id = ? ORDER BY id`).all(imageId) as Row[]).map(toSegment)
  }

  /**
   * Segments of one model's audit over a dataset (or split): the model's own segments plus the model-free GT
   * instances, of the given kinds and at least minArea pixels, in id order.
   */
  forAudit(filter: { datasetId: number; modelId: number; split?: string | null; kinds: readonly string[]; minArea: number }): SegmentRecord[] {
    if (filter.kinds.length === 0) return []
    const rows = this.db
      .prepare(
        `SELECT ${COLUMNS.split(', ').map((c) => `s.${c}`).join(', ')} FROM segments s JOIN images i ON i.id = s.image_id
         WHERE i.dataset_id = ? AND (? IS NULL OR i.split = ?) AND (s.model_id = ? OR (s.model_id IS NULL AND s.kind = 'instance'))
           AND s.area >= ? AND s.kind IN (${filter.kinds.map(() => '?').join(', ')})
         ORDER BY s.id`
      )
      .all(filter.datasetId, filter.split ?? null, filter.split ?? null, filter.modelId, filter.minArea, ...filter.kinds) as Row[]
    return rows.map(toSegment)
  }
}
