import { AppError } from '@common/errors'
import type { JobSummary, StoredJobState } from '@common/types'
import type { Db } from '../database'
import { parseJson } from './json'

interface JobRow {
  id: number
  kind: string
  state: StoredJobState
  params: string
  total: number
  error: string | null
  created_at: string
  updated_at: string
  done: number
  failed: number
}

/** Who runs a job: written by the owner when it takes the job, refreshed by its heartbeat, cleared on release. */
export interface JobLeaseRecord {
  pid: number
  host: string
  token: string
  /** ms since the epoch, on the owner's clock. */
  heartbeatAt: number
}

export interface JobItemFailure {
  itemKey: string
  code: string | null
  message: string
}

const SELECT_JOB = `
  SELECT j.*,
    (SELECT COUNT(*) FROM job_items i WHERE i.job_id = j.id AND i.state = 'done') AS done,
    (SELECT COUNT(*) FROM job_items i WHERE i.job_id = j.id AND i.state = 'failed') AS failed
  FROM jobs j`

const toSummary = (r: JobRow): JobSummary => ({
  id: r.id,
  kind: r.kind,
  state: r.state,
  done: r.done,
  failed: r.failed,
  total: r.total,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  error: r.error
})

/**
 * Jobs keep one row per item, so progress is derived from the items rather than counted separately: a job
 * killed between storing a result and bumping a counter cannot drift.
 */
export class JobRepo {
  constructor(private readonly db: Db) {}

  create(kind: string, params: Record<string, unknown>, itemKeys: string[]): JobSummary {
    const id = this.db.transaction(() => {
      const jobId = Number(
        this.db.prepare("INSERT INTO jobs (kind, state, params, total) VALUES (?, 'queued', ?, ?)").run(kind, JSON.stringify(params), itemKeys.length)
          .lastInsertRowid
      )
      const insertItem = this.db.prepare('INSERT INTO job_items (job_id, item_key) VALUES (?, ?)')
      for (const key of itemKeys) insertItem.run(jobId, key)
      return jobId
    })()
    return this.get(id)!
  }

  get(id: number): JobSummary | null {
    const row = this.db.prepare(`${SELECT_JOB} WHERE j.id = ?`).get(id) as JobRow | undefined
    return row ? toSummary(row) : null
  }

  params<T = Record<string, unknown>>(id: number): T {
    const row = this.db.prepare('SELECT params FROM jobs WHERE id = ?').get(id) as { params: string } | undefined
    if (!row) throw new AppError('JOB_NOT_FOUND', `No job ${id}`)
    return parseJson(row.params, {} as T)
  }

  /** Stored states only: 'interrupted' is derived from the lease (src/main/jobs/status.ts). */
  list(state?: StoredJobState): JobSummary[] {
    const rows = (
      state ? this.db.prepare(`${SELECT_JOB} WHERE j.state = ? ORDER BY j.id DESC`).all(state) : this.db.prepare(`${SELECT_JOB} ORDER BY j.id DESC`).all()
    ) as JobRow[]
    return rows.map(toSummary)
  }

  setState(id: number, state: StoredJobState, error: string | null = null): void {
    const changes = this.db
      .prepare("UPDATE jobs SET state = ?, error = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?")
      .run(state, error, id).changes
    if (changes === 0) throw new AppError('JOB_NOT_FOUND', `No job ${id}`)
  }

  pendingItems(id: number): string[] {
    return (this.db.prepare("SELECT item_key FROM job_items WHERE job_id = ? AND state = 'pending' ORDER BY id").all(id) as { item_key: string }[]).map(
      (r) => r.item_key
    )
  }

  /**
   * Marks an item done in the same transaction as whatever stores its result, so a result and its "done" mark
   * are never seen apart.
   */
  completeItem<T>(id: number, itemKey: string, storeResult: () => T): T {
    return this.db.transaction(() => {
      const result = storeResult()
      this.db
        .prepare("UPDATE job_items SET state = 'done', error = NULL, error_code = NULL, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE job_id = ? AND item_key = ?")
        .run(id, itemKey)
      return result
    })()
  }

  failItem(id: number, itemKey: string, code: string | null, message: string): void {
    this.db
      .prepare("UPDATE job_items SET state = 'failed', error_code = ?, error = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE job_id = ? AND item_key = ?")
      .run(code, message, id, itemKey)
  }

  failures(id: number): JobItemFailure[] {
    return (
      this.db.prepare("SELECT item_key, error_code, error FROM job_items WHERE job_id = ? AND state = 'failed' ORDER BY id").all(id) as {
        item_key: string
        error_code: string | null
        error: string
      }[]
    ).map((r) => ({ itemKey: r.item_key, code: r.error_code, message: r.error }))
  }

  lease(id: number): JobLeaseRecord | null {
    const row = this.db.prepare('SELECT owner_pid, owner_host, owner_token, heartbeat_at FROM jobs WHERE id = ?').get(id) as
      | { owner_pid: number | null; owner_host: string | null; owner_token: string | null; heartbeat_at: number | null }
      | undefined
    if (!row || row.owner_token === null) return null
    return { pid: row.owner_pid ?? 0, host: row.owner_host ?? '', token: row.owner_token, heartbeatAt: row.heartbeat_at ?? 0 }
  }

  /**
   * Takes the job for `owner` in one statement, so two processes that both found it free cannot both win: only
   * when nobody holds it, its heartbeat is older than `staleBefore`, or it is still held by `replacing` (a lease
   * the caller judged dead, say by its pid). True when the job is now the owner's.
   */
  acquireLease(id: number, owner: Omit<JobLeaseRecord, 'heartbeatAt'>, now: number, staleBefore: number, replacing: string | null): boolean {
    return (
      this.db
        .prepare(
          `UPDATE jobs SET owner_pid = ?, owner_host = ?, owner_token = ?, heartbeat_at = ?
           WHERE id = ? AND (owner_token IS NULL OR heartbeat_at < ? OR owner_token = ?)`
        )
        .run(owner.pid, owner.host, owner.token, now, id, staleBefore, replacing).changes === 1
    )
  }

  /** The owner's heartbeat; false when `token` no longer holds the job (it was taken over). */
  beat(id: number, token: string, now: number): boolean {
    return this.db.prepare('UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND owner_token = ?').run(now, id, token).changes === 1
  }

  /**
   * Runs `write` in one transaction with a heartbeat, only while `token` still holds the job, so an owner that
   * lost its lease (frozen past the staleness limit, then woken) cannot store a result the new owner also stores.
   * Returns whether it ran.
   */
  whileHolding(id: number, token: string, now: number, write: () => void): boolean {
    return this.db.transaction(() => {
      if (!this.beat(id, token, now)) return false
      write()
      return true
    })()
  }

  /** Gives the job up, setting its state in the same statement when one is given; false when `token` did not hold it. */
  releaseLease(id: number, token: string, state?: StoredJobState, error: string | null = null): boolean {
    const stamp = "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    const sql = state
      ? `UPDATE jobs SET state = ?, error = ?, ${stamp}, owner_pid = NULL, owner_host = NULL, owner_token = NULL, heartbeat_at = NULL WHERE id = ? AND owner_token = ?`
      : 'UPDATE jobs SET owner_pid = NULL, owner_host = NULL, owner_token = NULL, heartbeat_at = NULL WHERE id = ? AND owner_token = ?'
    const args = state ? [state, error, id, token] : [id, token]
    return this.db.prepare(sql).run(...args).changes === 1
  }
}
