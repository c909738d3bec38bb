import { closeSync, existsSync, openSync, readSync } from 'node:fs'
import Database from 'better-sqlite3'
import { AppError } from '@common/errors'
import { LATEST_SCHEMA_VERSION, migrations } from './migrations'

export type Db = Database.Database

/**
 * Electron loads native modules built for its own ABI while vitest and the CLI use plain Node's; `npm start`
 * builds a second copy of better-sqlite3 for Electron and passes its path here, so the Node build stays intact.
 */
export function nativeBindingOption(): Database.Options {
  const binding = process.versions.electron ? process.env.CTXLENS_SQLITE_BINDING : undefined
  return binding ? { nativeBinding: binding } : {}
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number
}

function migrate(db: Db, path: string): void {
  const current = schemaVersion(db)
  if (current > LATEST_SCHEMA_VERSION) {
    throw new AppError(
      'PROJECT_SCHEMA_TOO_NEW',
      `The project file ${path} has schema version ${current}, newer than this app understands (${LATEST_SCHEMA_VERSION}); update Context Lens to open it`,
      { path, schemaVersion: current, latestSchemaVersion: LATEST_SCHEMA_VERSION }
    )
  }
  for (const m of migrations) {
    if (m.version <= current) continue
    // Each migration and its version bump commit together, so a crash mid-migration leaves the old schema.
    db.transaction(() => {
      m.up(db)
      db.pragma(`user_version = ${m.version}`)
    })()
  }
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1')

function notAProject(path: string, reason: string): AppError {
  return new AppError(
    'PROJECT_OPEN_FAILED',
    `${path} is not a Context Lens project (${reason}); only "project create" makes a new project file`,
    { path, reason }
  )
}

/**
 * Decided from the file's first bytes, before SQLite sees it: an empty file is a valid empty database to SQLite,
 * and any write to it (WAL, migrations) would turn it into a project.
 */
function checkSqliteHeader(path: string): void {
  const header = Buffer.alloc(SQLITE_HEADER.length)
  let read = 0
  const fd = openSync(path, 'r')
  try {
    read = readSync(fd, header, 0, header.length, 0)
  } finally {
    closeSync(fd)
  }
  if (read === 0) throw notAProject(path, 'the file is empty')
  if (read < header.length || !header.equals(SQLITE_HEADER)) throw notAProject(path, 'not an SQLite database')
}

/**
 * A project is a file the first migration has run on: user_version ≥ 1 (it commits with migration 1) and the
 * project_meta table that migration creates. Every project any release ever wrote has both, so no new marker is
 * needed for old files; a foreign database lacks at least one. Reads only, so a refused file stays unchanged.
 */
function checkProjectMarker(db: Db, path: string): void {
  const version = schemaVersion(db)
  const meta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'project_meta'").get()
  if (version < 1 || !meta) throw notAProject(path, 'an SQLite database without the project schema')
}

/**
 * Open (or create) a project file: WAL for crash safety and concurrent readers, foreign keys enforced, and the
 * migrations applied before anything else touches it. Opening never makes a project out of another file.
 */
export function openDatabase(path: string, options: { create?: boolean; readonly?: boolean } = {}): Db {
  const exists = existsSync(path)
  if (!exists && !options.create) {
    throw new AppError('PROJECT_OPEN_FAILED', `No project file at ${path}`, { path })
  }
  if (exists && options.create) {
    throw new AppError('CONFLICT', `A file already exists at ${path}; open it instead of creating a project there`, { path })
  }
  try {
    if (!options.create) checkSqliteHeader(path)
  } catch (err) {
    if (err instanceof AppError) throw err
    throw new AppError('PROJECT_OPEN_FAILED', `Cannot read ${path}: ${(err as Error).message}`, { path })
  }
  let db: Db
  try {
    db = new Database(path, { ...nativeBindingOption(), readonly: options.readonly ?? false, fileMustExist: !options.create })
  } catch (err) {
    throw new AppError('PROJECT_OPEN_FAILED', `Cannot open ${path}: ${(err as Error).message}`, { path })
  }
  try {
    // Connection settings only; the first write (journal_mode) waits until the file is known to be a project.
    db.pragma('busy_timeout = 5000')
    db.pragma('foreign_keys = ON')
    db.pragma('synchronous = NORMAL')
    if (!options.create) checkProjectMarker(db, path)
    if (!options.readonly) db.pragma('journal_mode = WAL')
    if (!options.readonly) migrate(db, path)
    else if (schemaVersion(db) > LATEST_SCHEMA_VERSION) migrate(db, path) // throws the too-new error
    return db
  } catch (err) {
    db.close()
    if (err instanceof AppError) throw err
    const code = (err as { code?: unknown }).code
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new AppError('PROJECT_OPEN_FAILED', `Cannot open ${path}: another process holds it locked`, { path })
    }
    throw new AppError('PROJECT_OPEN_FAILED', `${path} is not a Context Lens project: ${(err as Error).message}`, { path })
  }
}

export { LATEST_SCHEMA_VERSION }
