import type { ProjectSummary } from '@common/types'
import type { Db } from '../database'

export class ProjectMetaRepo {
  constructor(private readonly db: Db) {}

  get(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM project_meta WHERE key = ?').get(key) as { value: string } | undefined
    return row?.value ?? null
  }

  set(key: string, value: string): void {
    this.db.prepare('INSERT INTO project_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value)
  }

  /** Rows per table the project summary shows. */
  counts(): ProjectSummary['counts'] {
    const count = (table: string): number => (this.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
    return {
      datasets: count('datasets'),
      images: count('images'),
      models: count('models'),
      explanations: count('explanations'),
      bookmarks: count('bookmarks'),
      jobs: count('jobs')
    }
  }
}
