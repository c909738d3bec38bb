import Database from 'better-sqlite3'

/**
 * A project's SQLite file read through a connection of the test's own, not through the app's repositories: what
 * is stored, checked independently of the code that stored it. Readonly, so looking changes nothing; the project
 * may stay open meanwhile (WAL lets a second reader see everything it committed).
 */
export function readSqliteFile<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    return read(db)
  } finally {
    db.close()
  }
}

/** Rows per table, as committed in the file. */
export function countRows<T extends string>(path: string, tables: readonly T[]): Record<T, number> {
  return readSqliteFile(path, (db) =>
    Object.fromEntries(tables.map((t) => [t, (db.prepare(`SELECT COUNT(*) AS n FROM "${t}"`).get() as { n: number }).n])) as Record<T, number>
  )
}

/**
 * Runs SQL on the file through a connection of the test's own, for fault injection (a trigger that fails a write
 * half-way) that the app's connection then meets: SQLite re-reads the schema when another connection changed it.
 */
export function execInSqliteFile(path: string, sql: string): void {
  const db = new Database(path, { fileMustExist: true })
  try {
    db.exec(sql)
  } finally {
    db.close()
  }
}
