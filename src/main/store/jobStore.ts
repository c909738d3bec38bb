import Database from 'better-sqlite3'
import { AppError } from '@common/errors'
import { nativeBindingOption, schemaVersion, type Db } from './database'
import type { Migration } from './migrations'
import { JobRepo } from './repositories/jobs'

/**
 * The job tables of a project (migrations 1 and 2 there), for a file that holds nothing else: JobRepo and the job
 * lease work on either. Never edited once shipped; a change is a new entry.
 */
const migrations: Migration[] = [
  {
    version: 1,
    description: 'jobs and their items, with the lease of the process that runs a job',
    up: (db) =>
      db.exec(`
        CREATE TABLE jobs (
          id           INTEGER PRIMARY KEY,
          kind         TEXT NOT NULL,
          state        TEXT NOT NULL CHECK (state IN ('queued','running','paused','cancelled','failed','done')),
          params       TEXT NOT NULL DEFAULT '{}',
          total        INTEGER NOT NULL DEFAULT 0,
          error        TEXT,
          created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          owner_pid    INTEGER,
          owner_host   TEXT,
          owner_token  TEXT,
          heartbeat_at INTEGER
        );
        CREATE TABLE job_items (
          id          INTEGER PRIMARY KEY,
          job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
          item_key    TEXT NOT NULL,
          state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','done','failed')),
          error_code  TEXT,
          error       TEXT,
          updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          UNIQUE (job_id, item_key)
        );
        CREATE INDEX job_items_by_state ON job_items(job_id, state);
      `)
  }
]
const LATEST = migrations[migrations.length - 1].version

/**
 * Jobs that belong to no project: the benchmark, which trains and explains its own models, runs without one. One
 * SQLite file in the app home, shared by the app and the CLI (WAL; the job lease keeps two processes off one job),
 * so such a run is listed, resumed and cancelled like an audit whichever project is open, or none.
 */
export class JobStore {
  readonly jobs: JobRepo
  private readonly closing = new Set<() => void>()

  readonly #db: Db

  private constructor(
    readonly path: string,
    db: Db
  ) {
    this.#db = db
    this.jobs = new JobRepo(db)
  }

  get isOpen(): boolean {
    return this.#db.open
  }

  /** Opens the file, creating it (and its tables) when it does not exist yet. */
  static open(path: string): JobStore {
    let db: Db
    try {
      db = new Database(path, nativeBindingOption())
    } catch (err) {
      throw new AppError('INTERNAL', `Cannot open the app's job list ${path}: ${(err as Error).message}`, { path })
    }
    try {
      db.pragma('busy_timeout = 5000')
      db.pragma('foreign_keys = ON')
      db.pragma('synchronous = NORMAL')
      db.pragma('journal_mode = WAL')
      // Read and migrate under the write lock: the app and the CLI may both open the file for the first time.
      db.transaction(() => {
        const current = schemaVersion(db)
        if (current > LATEST) {
          throw new AppError('CONFLICT', `The app's job list ${path} has schema version ${current}, newer than this app understands (${LATEST}); update Context Lens`, {
            path
          })
        }
        for (const m of migrations) {
          if (m.version <= current) continue
          m.up(db)
          db.pragma(`user_version = ${m.version}`)
        }
      }).immediate()
      return new JobStore(path, db)
    } catch (err) {
      db.close()
      if (err instanceof AppError) throw err
      throw new AppError('INTERNAL', `Cannot open the app's job list ${path}: ${(err as Error).message}`, { path })
    }
  }

  /** As Project.beforeClose: a running job gives up its lease (paused) before the file closes. */
  beforeClose(fn: () => void): () => void {
    this.closing.add(fn)
    return () => this.closing.delete(fn)
  }

  close(): void {
    if (!this.#db.open) return
    for (const fn of [...this.closing]) {
      try {
        fn()
      } catch {
        // As in Project.close: what the hook would have written is derived from the lease on the next open.
      }
    }
    this.closing.clear()
    this.#db.close()
  }
}
