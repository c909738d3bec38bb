import type { DatasetSummary } from '@common/types'
import type { Db } from '../database'
import { parseJson } from './json'

export interface ImageInput {
  path: string
  labelPath?: string | null
  instancePath?: string | null
  width: number
  height: number
  split?: string
  contentHash: string
  meta?: Record<string, unknown>
}

export interface ImageRecord extends Required<Omit<ImageInput, 'meta'>> {
  id: number
  datasetId: number
  meta: Record<string, unknown>
}

interface ImageRow {
  id: number
  dataset_id: number
  path: string
  label_path: string | null
  instance_path: string | null
  width: number
  height: number
  split: string
  content_hash: string
  meta: string
}

const toImage = (r: ImageRow): ImageRecord => ({
  id: r.id,
  datasetId: r.dataset_id,
  path: r.path,
  labelPath: r.label_path,
  instancePath: r.instance_path,
  width: r.width,
  height: r.height,
  split: r.split,
  contentHash: r.content_hash,
  meta: parseJson(r.meta, {})
})

/** A dataset row as stored, with the options its importer recorded (the summary leaves them out). */
export interface DatasetRecord {
  id: number
  name: string
  format: string
  root: string
  classSetId: number
  options: Record<string, unknown>
  createdAt: string
}

interface DatasetRow {
  id: number
  name: string
  format: string
  root: string
  class_set_id: number
  options: string
  created_at: string
}

const toDataset = (r: DatasetRow): DatasetRecord => ({
  id: r.id,
  name: r.name,
  format: r.format,
  root: r.root,
  classSetId: r.class_set_id,
  options: parseJson(r.options, {}),
  createdAt: r.created_at
})

const DATASET_COLUMNS = 'id, name, format, root, class_set_id, options, created_at'

export class DatasetRepo {
  constructor(private readonly db: Db) {}

  /**
   * A dataset and all its images land in one transaction: an import that fails half-way leaves nothing behind.
   */
  createWithImages(
    input: { name: string; format: string; root: string; classSetId: number; options?: Record<string, unknown> },
    images: ImageInput[]
  ): DatasetSummary {
    const insertDataset = this.db.prepare('INSERT INTO datasets (name, format, root, class_set_id, options) VALUES (?, ?, ?, ?, ?)')
    const insertImage = this.db.prepare(
      `INSERT INTO images (dataset_id, path, label_path, instance_path, width, height, split, content_hash, meta)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
    )
    const id = this.db.transaction(() => {
      const datasetId = Number(
        insertDataset.run(input.name, input.format, input.root, input.classSetId, JSON.stringify(input.options ?? {})).lastInsertRowid
      )
      for (const im of images) {
        insertImage.run(
          datasetId,
          im.path,
          im.labelPath ?? null,
          im.instancePath ?? null,
          im.width,
          im.height,
          im.split ?? 'all',
          im.contentHash,
          JSON.stringify(im.meta ?? {})
        )
      }
      return datasetId
    })()
    return this.get(id)!
  }

  get(id: number): DatasetSummary | null {
    return this.list().find((d) => d.id === id) ?? null
  }

  list(): DatasetSummary[] {
    const rows = this.db
      .prepare('SELECT id, name, format, root, class_set_id, created_at FROM datasets ORDER BY id')
      .all() as { id: number; name: string; format: string; root: string; class_set_id: number; created_at: string }[]
    const splitRows = this.db
      .prepare('SELECT dataset_id, split, COUNT(*) AS n FROM images GROUP BY dataset_id, split')
      .all() as { dataset_id: number; split: string; n: number }[]
    return rows.map((r) => {
      const splits: Record<string, number> = {}
      for (const s of splitRows) if (s.dataset_id === r.id) splits[s.split] = s.n
      return {
        id: r.id,
        name: r.name,
        format: r.format,
        root: r.root,
        classSetId: r.class_set_id,
        imageCount: Object.values(splits).reduce((a, b) => a + b, 0),
        splits,
        createdAt: r.created_at
      }
    })
  }

  record(id: number): DatasetRecord | null {
    const row = this.db.prepare(`SELECT ${DATASET_COLUMNS} FROM datasets WHERE id = ?`).get(id) as DatasetRow | undefined
    return row ? toDataset(row) : null
  }

  /** Every dataset imported from this folder, oldest first. */
  withRoot(root: string): DatasetRecord[] {
    return (this.db.prepare(`SELECT ${DATASET_COLUMNS} FROM datasets WHERE root = ? ORDER BY id`).all(root) as DatasetRow[]).map(toDataset)
  }

  names(): string[] {
    return (this.db.prepare('SELECT name FROM datasets').all() as { name: string }[]).map((r) => r.name)
  }

  imageCount(datasetId: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM images WHERE dataset_id = ?').get(datasetId) as { n: number }).n
  }

  images(datasetId: number, options: { split?: string; limit?: number; offset?: number } = {}): ImageRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM images WHERE dataset_id = ? AND (? IS NULL OR split = ?) ORDER BY id LIMIT ? OFFSET ?`
      )
      .all(datasetId, options.split ?? null, options.split ?? null, options.limit ?? -1, options.offset ?? 0) as ImageRow[]
    return rows.map(toImage)
  }

  image(id: number): ImageRecord | null {
    const row = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined
    return row ? toImage(row) : null
  }

  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM datasets WHERE id = ?').run(id).changes > 0
  }
}
