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

/** One model's segments over a dataset, optionally one split: the scope of the error-case queries. */
export interface PairScope {
  datasetId: number
  modelId: number
  split?: string | null
  /** Segments smaller than this many pixels are left out. */
  minArea?: number
}

export interface PairSegmentRecord extends SegmentRecord {
  path: string
  split: string
  imageWidth: number
  imageHeight: number
}

// Only the kinds that pair a ground-truth class with a predicted one; `predicted` and `instance` have one side only.
const PAIR_FROM = `FROM segments s JOIN images i ON i.id = s.image_id
  WHERE i.dataset_id = @datasetId AND (@split IS NULL OR i.split = @split) AND s.model_id = @modelId
    AND s.kind IN ('correct', 'misclassified') AND s.area >= @minArea`

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
   * The kinds already stored for an image and model: GT instances count whatever the model (they are stored
   * without one), every other kind only when it belongs to `modelId`.
   */
  storedKinds(imageId: number, modelId: number | null): Set<string> {
    const rows = this.db
      .prepare('SELECT DISTINCT kind, model_id FROM segments WHERE image_id = ? AND (model_id IS NULL OR model_id IS ?)')
      .all(imageId, modelId) as { kind: string; model_id: number | null }[]
    return new Set(rows.filter((r) => (r.kind === 'instance' ? r.model_id === null : r.model_id === modelId)).map((r) => r.kind))
  }

  /**
   * Segments of one model's audit over a dataset (or split): the model's own segments plus the model-free GT
   * instances, of the given kinds and at least minArea pixels, image by image. Not in id order: predictions of
   * parallel batches are stored as they finish, so ids differ from run to run, and the audit's seeded samples must
   * draw the same segments every time (within an image, ids follow one extraction and so are stable).
   */
  forAudit(filter: { datasetId: number; modelId: number; split?: string | null; kinds: readonly string[]; minArea: number }): SegmentRecord[] {
    if (filter.kinds.length === 0) return []
    const rows = this.db
      .prepare(
        `SELECT ${COLUMNS.split(', ').map((c) => `s.${c}`).join(', ')} FROM segments s JOIN images i ON i.id = s.image_id
         WHERE i.dataset_id = ? AND (? IS NULL OR i.split = ?) AND (s.model_id = ? OR (s.model_id IS NULL AND s.kind = 'instance'))
           AND s.area >= ? AND s.kind IN (${filter.kinds.map(() => '?').join(', ')})
         ORDER BY s.image_id, s.id`
      )
      .all(filter.datasetId, filter.split ?? null, filter.split ?? null, filter.modelId, filter.minArea, ...filter.kinds) as Row[]
    return rows.map(toSegment)
  }

  /** Correct and misclassified segments per (ground truth, prediction) pair, with their summed area: one indexed GROUP BY. */
  pairCounts(scope: PairScope): { gt: number; pred: number; segments: number; area: number }[] {
    return this.db
      .prepare(
        `SELECT s.gt_class AS gt, s.pred_class AS pred, COUNT(*) AS segments, SUM(s.area) AS area ${PAIR_FROM}
         GROUP BY s.gt_class, s.pred_class ORDER BY s.gt_class, s.pred_class`
      )
      .all({ datasetId: scope.datasetId, modelId: scope.modelId, split: scope.split ?? null, minArea: scope.minArea ?? 1 }) as { gt: number; pred: number; segments: number; area: number }[]
  }

  /**
   * The segments of one (ground truth, prediction) pair with their image, a page at a time. Segments without a
   * stored confidence sort last either way: an unknown confidence is neither high nor low.
   */
  byPair(
    scope: PairScope & { gt: number; pred: number; sort: 'area' | 'confidence'; descending: boolean; offset: number; limit: number }
  ): { total: number; items: PairSegmentRecord[] } {
    const params = { datasetId: scope.datasetId, modelId: scope.modelId, split: scope.split ?? null, minArea: scope.minArea ?? 1, gt: scope.gt, pred: scope.pred }
    const where = `${PAIR_FROM} AND s.gt_class = @gt AND s.pred_class = @pred`
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n ${where}`).get(params) as { n: number }
    const dir = scope.descending ? 'DESC' : 'ASC'
    const order = scope.sort === 'area' ? `s.area ${dir}` : `(s.confidence IS NULL), s.confidence ${dir}`
    const rows = this.db
      .prepare(
        `SELECT ${COLUMNS.split(', ').map((c) => `s.${c}`).join(', ')}, i.path AS path, i.split AS split, i.width AS width, i.height AS height ${where}
         ORDER BY ${order}, s.id LIMIT @limit OFFSET @offset`
      )
      .all({ ...params, limit: scope.limit, offset: scope.offset }) as (Row & { path: string; split: string; width: number; height: number })[]
    return { total: n, items: rows.map((r) => ({ ...toSegment(r), path: r.path, split: r.split, imageWidth: r.width, imageHeight: r.height })) }
  }
}
