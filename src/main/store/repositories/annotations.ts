import { AppError } from '@common/errors'
import type { Bookmark, Note } from '@common/types'
import type { Db } from '../database'
import { parseJson } from './json'

type TargetKind = Bookmark['targetKind']

const TARGET_TABLES: Record<TargetKind, string> = { image: 'images', segment: 'segments', explanation: 'explanations' }

/**
 * Bookmarks and notes point at an image, a segment or an explanation. SQLite cannot hold a foreign key to one of
 * three tables, so the target is checked here before anything is written.
 */
function assertTargetExists(db: Db, kind: TargetKind, id: number): void {
  const found = db.prepare(`SELECT 1 FROM ${TARGET_TABLES[kind]} WHERE id = ?`).get(id)
  if (!found) throw new AppError('NOT_FOUND', `No ${kind} with id ${id} in this project`, { targetKind: kind, targetId: id })
}

interface BookmarkRow {
  id: number
  target_kind: TargetKind
  target_id: number
  title: string
  tags: string
  created_at: string
}

const toBookmark = (r: BookmarkRow): Bookmark => ({
  id: r.id,
  targetKind: r.target_kind,
  targetId: r.target_id,
  title: r.title,
  tags: parseJson<string[]>(r.tags, []),
  createdAt: r.created_at
})

export class BookmarkRepo {
  constructor(private readonly db: Db) {}

  /** Bookmarking the same target again updates its title and tags instead of making a duplicate. */
  add(input: { targetKind: TargetKind; targetId: number; title: string; tags: string[] }): Bookmark {
    assertTargetExists(this.db, input.targetKind, input.targetId)
    const tags = [...new Set(input.tags)]
    this.db
      .prepare(
        `INSERT INTO bookmarks (target_kind, target_id, title, tags) VALUES (?, ?, ?, ?)
         ON CONFLICT(target_kind, target_id) DO UPDATE SET title = excluded.title, tags = excluded.tags`
      )
      .run(input.targetKind, input.targetId, input.title, JSON.stringify(tags))
    const row = this.db.prepare('SELECT * FROM bookmarks WHERE target_kind = ? AND target_id = ?').get(input.targetKind, input.targetId) as BookmarkRow
    return toBookmark(row)
  }

  list(filter: { targetKind?: TargetKind; tag?: string } = {}): Bookmark[] {
    const rows = this.db
      .prepare('SELECT * FROM bookmarks WHERE (? IS NULL OR target_kind = ?) ORDER BY id DESC')
      .all(filter.targetKind ?? null, filter.targetKind ?? null) as BookmarkRow[]
    const all = rows.map(toBookmark)
    return filter.tag ? all.filter((b) => b.tags.includes(filter.tag!)) : all
  }

  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM bookmarks WHERE id = ?').run(id).changes > 0
  }
}

interface NoteRow {
  id: number
  target_kind: TargetKind
  target_id: number
  body: string
  created_at: string
  updated_at: string
}

const toNote = (r: NoteRow): Note => ({
  id: r.id,
  targetKind: r.target_kind,
  targetId: r.target_id,
  body: r.body,
  createdAt: r.created_at,
  updatedAt: r.updated_at
})

export class NoteRepo {
  constructor(private readonly db: Db) {}

  add(input: { targetKind: TargetKind; targetId: number; body: string }): Note {
    assertTargetExists(this.db, input.targetKind, input.targetId)
    const id = Number(this.db.prepare('INSERT INTO notes (target_kind, target_id, body) VALUES (?, ?, ?)').run(input.targetKind, input.targetId, input.body).lastInsertRowid)
    return toNote(this.db.prepare('SELECT * FROM notes WHERE id = ?').get(id) as NoteRow)
  }

  list(targetKind: TargetKind, targetId: number): Note[] {
    return (this.db.prepare('SELECT * FROM notes WHERE target_kind = ? AND target_id = ? ORDER BY id').all(targetKind, targetId) as NoteRow[]).map(toNote)
  }

  all(): Note[] {
    return (this.db.prepare('SELECT * FROM notes ORDER BY id').all() as NoteRow[]).map(toNote)
  }
}
