import type { Db } from '../database'
import { parseJson } from './json'

export interface ReportRecord {
  id: number
  title: string
  params: Record<string, unknown>
  path: string | null
  createdAt: string
}

export class ReportRepo {
  constructor(private readonly db: Db) {}

  add(input: { title: string; params: Record<string, unknown>; path: string | null }): ReportRecord {
    const id = Number(this.db.prepare('INSERT INTO reports (title, params, path) VALUES (?, ?, ?)').run(input.title, JSON.stringify(input.params), input.path).lastInsertRowid)
    return this.list().find((r) => r.id === id)!
  }

  list(): ReportRecord[] {
    return (
      this.db.prepare('SELECT * FROM reports ORDER BY id DESC').all() as { id: number; title: string; params: string; path: string | null; created_at: string }[]
    ).map((r) => ({ id: r.id, title: r.title, params: parseJson(r.params, {}), path: r.path, createdAt: r.created_at }))
  }
}
