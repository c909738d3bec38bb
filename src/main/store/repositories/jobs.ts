import { AppError } from '@common/errors'
import type { JobState, JobSummary } from '@common/types'
import type { Db } from '../database'
import { parseJson } from './json'

interface JobRow {
  id: number
  kind: string
  state: JobState
  params: string
  total: number
  error: string | null
  created_at: string
  updated_at: string
  done: number
  failed: number
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

  list(state?: JobState): JobSummary[] {
    const rows = (
      state ? this.db.prepare(`${SELECT_JOB} WHERE j.state = ? ORDER BY j.id DESC`).all(state) : this.db.prepare(`${SELECT_JOB} ORDER BY j.id DESC`).all()
    ) as JobRow[]
    return rows.map(toSummary)
  }

  setState(id: number, state: JobState, error: string | null = null): void {
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

  /** Jobs that were running when the process died: mark them paused so the user (or start-up) can resume them. */
  recoverInterrupted(): number {
    return this.db.prepare("UPDATE jobs SET state = 'paused', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE state = 'running'").run().changes
  }
}
