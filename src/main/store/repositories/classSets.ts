import type { ClassDef, ClassSet } from '@common/types'
import type { Db } from '../database'
import { parseJson } from './json'

interface Row {
  id: number
  name: string
  classes: string
  ignore_ids: string
}

const toClassSet = (r: Row): ClassSet => ({
  id: r.id,
  name: r.name,
  classes: parseJson<ClassDef[]>(r.classes, []),
  ignoreIds: parseJson<number[]>(r.ignore_ids, [])
})

export class ClassSetRepo {
  constructor(private readonly db: Db) {}

  create(input: { name: string; classes: ClassDef[]; ignoreIds?: number[] }): ClassSet {
    const info = this.db
      .prepare('INSERT INTO class_sets (name, classes, ignore_ids) VALUES (?, ?, ?)')
      .run(input.name, JSON.stringify(input.classes), JSON.stringify(input.ignoreIds ?? []))
    return this.get(Number(info.lastInsertRowid))!
  }

  /** The oldest class set with exactly this name, classes and ignore ids (compared as the JSON they are stored as). */
  findIdentical(set: { name: string; classes: ClassDef[]; ignoreIds: number[] }): number | null {
    const row = this.db
      .prepare('SELECT id FROM class_sets WHERE name = ? AND classes = ? AND ignore_ids = ? ORDER BY id LIMIT 1')
      .get(set.name, JSON.stringify(set.classes), JSON.stringify(set.ignoreIds)) as { id: number } | undefined
    return row ? row.id : null
  }

  get(id: number): ClassSet | null {
    const row = this.db.prepare('SELECT * FROM class_sets WHERE id = ?').get(id) as Row | undefined
    return row ? toClassSet(row) : null
  }
}
