import { basename } from 'node:path'
import type { ProjectSummary } from '@common/types'
import { LATEST_SCHEMA_VERSION, openDatabase, schemaVersion, type Db } from './database'
import { BookmarkRepo, NoteRepo } from './repositories/annotations'
import { ClassSetRepo } from './repositories/classSets'
import { DatasetRepo } from './repositories/datasets'
import { ExplanationRepo } from './repositories/explanations'
import { ImageListRepo } from './repositories/imageList'
import { JobRepo } from './repositories/jobs'
import { ModelRepo } from './repositories/models'
import { PredictionRepo } from './repositories/predictions'
import { ProjectMetaRepo } from './repositories/projectMeta'
import { ReportRepo } from './repositories/reports'
import { SegmentRepo } from './repositories/segments'

/**
 * One project = one SQLite file, with a repository per table group. The connection stays inside: every statement
 * lives in a repository, and a caller that needs several repository calls to commit together uses transaction().
 */
export class Project {
  readonly #db: Db
  readonly meta: ProjectMetaRepo
  readonly classSets: ClassSetRepo
  readonly datasets: DatasetRepo
  readonly models: ModelRepo
  readonly predictions: PredictionRepo
  readonly segments: SegmentRepo
  readonly explanations: ExplanationRepo
  readonly jobs: JobRepo
  readonly bookmarks: BookmarkRepo
  readonly notes: NoteRepo
  readonly reports: ReportRepo
  readonly imageList: ImageListRepo

  private constructor(
    readonly path: string,
    db: Db
  ) {
    this.#db = db
    this.meta = new ProjectMetaRepo(db)
    this.classSets = new ClassSetRepo(db)
    this.datasets = new DatasetRepo(db)
    this.models = new ModelRepo(db)
    this.predictions = new PredictionRepo(db)
    this.segments = new SegmentRepo(db)
    this.explanations = new ExplanationRepo(db)
    this.jobs = new JobRepo(db)
    this.bookmarks = new BookmarkRepo(db)
    this.notes = new NoteRepo(db)
    this.reports = new ReportRepo(db)
    this.imageList = new ImageListRepo(db)
  }

  static create(path: string, name?: string): Project {
    const project = new Project(path, openDatabase(path, { create: true }))
    project.meta.set('name', name ?? basename(path).replace(/\.[^.]+$/, ''))
    project.meta.set('created_at', new Date().toISOString())
    return project
  }

  static open(path: string): Project {
    // A job whose row says running is left as it is: another process may own it. Whether it still runs is read
    // from its lease (src/main/jobs/status.ts), and one whose owner died reads as interrupted.
    return new Project(path, openDatabase(path))
  }

  get schemaVersion(): number {
    return schemaVersion(this.#db)
  }

  /** False once the file is closed: a background job that outlived its project stops instead of writing. */
  get isOpen(): boolean {
    return this.#db.open
  }

  /**
   * Runs `fn` in one SQLite transaction: the repository calls inside commit together or not at all (and a throw
   * rolls them all back). Nested calls, including the repositories' own transactions, become savepoints.
   */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)()
  }

  summary(): ProjectSummary {
    return {
      path: this.path,
      name: this.meta.get('name') ?? basename(this.path),
      schemaVersion: this.schemaVersion,
      createdAt: this.meta.get('created_at') ?? '',
      counts: this.meta.counts()
    }
  }

  private readonly closing = new Set<() => void>()

  /**
   * Runs `fn` just before the file closes, while it can still be written (a running job gives up its lease, so
   * reopening the project finds it resumable at once). The returned function unregisters it.
   */
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
        // Closing must not fail because one hook did; what that hook would have written is derived on reopen.
      }
    }
    this.closing.clear()
    this.#db.close()
  }
}

export { LATEST_SCHEMA_VERSION }
