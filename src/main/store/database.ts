import { existsSync } from 'node:fs'
import Database from 'better-sqlite3'
import { AppError } from '@common/errors'
import { LATEST_SCHEMA_VERSION, migrations } from './migrations'

export type Db = Database.Database

/**
 * Electron loads native modules built for its own ABI while vitest and the CLI use plain Node's; `npm start`
 * builds a second copy of better-sqlite3 for Electron and passes its path here, so the Node build stays intact.
 */
function nativeBindingOption(): Database.Options {
  const binding = process.versions.electron ? process.env.CTXLENS_SQLITE_BINDING : undefined
  return binding ? { nativeBinding: binding } : {}
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number
}

function migrate(db: Db): void {
  const current = schemaVersion(db)
  if (current > LATEST_SCHEMA_VERSION) {
    throw new AppError(
      'PROJECT_SCHEMA_TOO_NEW',
      `This project file has schema version ${current}, newer than this app understands (${LATEST_SCHEMA_VERSION}); update Context Lens to open it`,
      { schemaVersion: current, latestSchemaVersion: LATEST_SCHEMA_VERSION }
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

/**
 * Open (or create) a project file: WAL for crash safety and concurrent readers, foreign keys enforced, and the
 * migrations applied before anything else touches it.
 */
export function openDatabase(path: string, options: { create?: boolean; readonly?: boolean } = {}): Db {
  const exists = existsSync(path)
  if (!exists && !options.create) {
    throw new AppError('PROJECT_OPEN_FAILED', `No project file at ${path}`, { path })
  }
  if (exists && options.create) {
    throw new AppError('CONFLICT', `A file already exists at ${path}; open it instead of creating a project there`, { path })
  }
  let db: Db
  try {
    db = new Database(path, { ...nativeBindingOption(), readonly: options.readonly ?? false, fileMustExist: !options.create })
  } catch (err) {
    throw new AppError('PROJECT_OPEN_FAILED', `Cannot open ${path}: ${(err as Error).message}`, { path })
  }
  try {
    // A non-SQLite file fails on the first read, not on open.
    if (!options.readonly) db.pragma('journal_mode = WAL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    db.pragma('synchronous = NORMAL')
    if (!options.readonly) migrate(db)
    else if (schemaVersion(db) > LATEST_SCHEMA_VERSION) migrate(db) // throws the too-new error
    return db
  } catch (err) {
    db.close()
    if (err instanceof AppError) throw err
    throw new AppError('PROJECT_OPEN_FAILED', `${path} is not a Context Lens project: ${(err as Error).message}`, { path })
  }
}

export { LATEST_SCHEMA_VERSION }
