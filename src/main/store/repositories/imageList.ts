import type { ImageFilter, ImageListItem, ImageSort } from '@common/methods/viewer'
import type { Db } from '../database'

/** Misclassified segments of the filtered kind (@errGt → @errPred, NULL for any class on that side). */
const ERROR_KIND = `s.kind = 'misclassified' AND (@modelId IS NULL OR s.model_id = @modelId)
  AND (@errGt IS NULL OR s.gt_class = @errGt) AND (@errPred IS NULL OR s.pred_class = @errPred)`
// Under an error filter the badge counts what the filter asked for, not every error of the image.
const ERRORS = `(SELECT COUNT(*) FROM segments s WHERE s.image_id = i.id AND ${ERROR_KIND})`
const EXPLANATIONS = '(SELECT COUNT(*) FROM explanations e WHERE e.image_id = i.id)'
const BOOKMARKED = `EXISTS (SELECT 1 FROM bookmarks b WHERE
  (b.target_kind = 'image' AND b.target_id = i.id)
  OR (b.target_kind = 'segment' AND b.target_id IN (SELECT id FROM segments WHERE image_id = i.id))
  OR (b.target_kind = 'explanation' AND b.target_id IN (SELECT id FROM explanations WHERE image_id = i.id)))`

const ORDER: Record<ImageSort, string> = { id: 'i.id', name: 'i.path', errors: 'errors', explanations: 'explanations' }

function where(filter: ImageFilter): { sql: string; params: Record<string, unknown> } {
  const clauses: string[] = []
  const params: Record<string, unknown> = { modelId: filter.modelId ?? null, errGt: filter.error?.gt ?? null, errPred: filter.error?.pred ?? null }
  if (filter.datasetId !== undefined) {
    clauses.push('i.dataset_id = @datasetId')
    params.datasetId = filter.datasetId
  }
  if (filter.split) {
    clauses.push('i.split = @split')
    params.split = filter.split
  }
  if (filter.search) {
    clauses.push("i.path LIKE @search ESCAPE '\\'")
    params.search = `%${filter.search.replace(/[\\%_]/g, (c) => '\\' + c)}%`
  }
  for (const [k, c] of (filter.classes ?? []).entries()) {
    clauses.push(`EXISTS (SELECT 1 FROM segments s WHERE s.image_id = i.id AND s.gt_class = @class${k})`)
    params[`class${k}`] = c
  }
  if (filter.error) clauses.push(`EXISTS (SELECT 1 FROM segments s WHERE s.image_id = i.id AND ${ERROR_KIND})`)
  if (filter.bookmarked !== undefined) clauses.push(filter.bookmarked ? BOOKMARKED : `NOT ${BOOKMARKED}`)
  if (filter.explained !== undefined) clauses.push(`${filter.explained ? '' : 'NOT '}EXISTS (SELECT 1 FROM explanations e WHERE e.image_id = i.id)`)
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params }
}

interface Row {
  id: number
  dataset_id: number
  path: string
  split: string
  width: number
  height: number
  errors: number
  explanations: number
  bookmarked: number
}

const toItem = (r: Row): ImageListItem => ({
  id: r.id,
  datasetId: r.dataset_id,
  path: r.path,
  split: r.split,
  width: r.width,
  height: r.height,
  errors: r.errors,
  explanations: r.explanations,
  bookmarked: Boolean(r.bookmarked)
})

/**
 * Image pages for the dataset browser, filtered and sorted in SQL so 10,000+ images cost one indexed query per
 * page. Classes present and error kinds come from the stored segments: an image whose segments were never
 * extracted matches neither filter.
 */
export class ImageListRepo {
  constructor(private readonly db: Db) {}

  page(query: ImageFilter & { sort: ImageSort; descending: boolean; offset: number; limit: number }): {
    total: number
    items: ImageListItem[]
    bySplit: Record<string, number>
  } {
    const { sql, params } = where(query)
    const splits = this.db.prepare(`SELECT i.split AS split, COUNT(*) AS n FROM images i ${sql} GROUP BY i.split`).all(params) as { split: string; n: number }[]
    const bySplit = Object.fromEntries(splits.map((s) => [s.split, s.n]))
    const total = splits.reduce((a, s) => a + s.n, 0)
    const dir = query.descending ? 'DESC' : 'ASC'
    const rows = this.db
      .prepare(
        `SELECT i.id, i.dataset_id, i.path, i.split, i.width, i.height, ${ERRORS} AS errors, ${EXPLANATIONS} AS explanations, ${BOOKMARKED} AS bookmarked
         FROM images i ${sql} ORDER BY ${ORDER[query.sort]} ${dir}, i.id ${dir} LIMIT @limit OFFSET @offset`
      )
      .all({ ...params, limit: query.limit, offset: query.offset }) as Row[]
    return { total, items: rows.map(toItem), bySplit }
  }

  /** One image as the browser lists it; its error badge counts `modelId`'s misclassified segments (every model's when null). */
  item(imageId: number, modelId: number | null): ImageListItem | null {
    const row = this.db
      .prepare(
        `SELECT i.id, i.dataset_id, i.path, i.split, i.width, i.height, ${ERRORS} AS errors, ${EXPLANATIONS} AS explanations, ${BOOKMARKED} AS bookmarked
         FROM images i WHERE i.id = @id`
      )
      .get({ id: imageId, modelId, errGt: null, errPred: null }) as Row | undefined
    return row ? toItem(row) : null
  }
}
