import type { Db } from '../database'
import { parseJson } from './json'

export interface ModelRecord {
  id: number
  name: string
  dir: string
  architecture: string
  classSetId: number | null
  contentHash: string
  config: Record<string, unknown>
  createdAt: string
}

interface Row {
  id: number
  name: string
  dir: string
  architecture: string
  class_set_id: number | null
  content_hash: string
  config: string
  created_at: string
}

const toModel = (r: Row): ModelRecord => ({
  id: r.id,
  name: r.name,
  dir: r.dir,
  architecture: r.architecture,
  classSetId: r.class_set_id,
  contentHash: r.content_hash,
  config: parseJson(r.config, {}),
  createdAt: r.created_at
})

export class ModelRepo {
  constructor(private readonly db: Db) {}

  /** The content hash identifies a model: registering the same weights twice returns the existing row. */
  register(input: Omit<ModelRecord, 'id' | 'createdAt'>): ModelRecord {
    this.db
      .prepare(
        `INSERT INTO models (name, dir, architecture, class_set_id, content_hash, config) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(content_hash) DO NOTHING`
      )
      .run(input.name, input.dir, input.architecture, input.classSetId, input.contentHash, JSON.stringify(input.config))
    return this.byHash(input.contentHash)!
  }

  /** Replaces the model's config (JSON): what the project learnt about it after registration, e.g. class maps. */
  setConfig(id: number, config: Record<string, unknown>): void {
    this.db.prepare('UPDATE models SET config = ? WHERE id = ?').run(JSON.stringify(config), id)
  }

  byHash(hash: string): ModelRecord | null {
    const row = this.db.prepare('SELECT * FROM models WHERE content_hash = ?').get(hash) as Row | undefined
    return row ? toModel(row) : null
  }

  get(id: number): ModelRecord | null {
    const row = this.db.prepare('SELECT * FROM models WHERE id = ?').get(id) as Row | undefined
    return row ? toModel(row) : null
  }

  list(): ModelRecord[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY id').all() as Row[]).map(toModel)
  }
}
