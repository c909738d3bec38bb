import { AppError } from '@common/errors'
import type { AppInfo } from '@common/types'
import { existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { appJobStorePath } from '../paths'
import { readSettings, type Settings } from '../settings'
import { JobStore } from '../store/jobStore'
import { Project } from '../store/project'
import { EventBus } from './events'
import { availableParallelism } from 'node:os'
import { EnginePool } from '../engine/pool/pool'
import { engineHandlerModules } from '../engineHandlers'
import { TaskRegistry } from '../jobs/tasks'

/** State shared by all services of one running app (one per Electron window, server or CLI invocation). */
export class ServiceContext {
  readonly events = new EventBus()
  readonly tasks = new TaskRegistry(this.events)
  private pool: Promise<EnginePool> | null = null
  private loadedSettings: Settings | null = null
  private project: Project | null = null
  private jobStore: JobStore | null = null

  constructor(
    readonly transport: AppInfo['transport'],
    readonly options: { backend?: string } = {}
  ) {}

  /** Read on first use, so a broken settings file fails the call that needs it with its own message. */
  get settings(): Settings {
    this.loadedSettings ??= readSettings()
    return this.loadedSettings
  }

  /**
   * The engine's worker threads, started on first use: one per core unless CTXLENS_WORKERS says otherwise, each
   * with its own backend (the one forced for this app, if any) and the registered handlers (saliency's).
   */
  engine(): Promise<EnginePool> {
    if (!this.pool) {
      const n = Number(process.env.CTXLENS_WORKERS) || this.settings.workers || availableParallelism()
      const setting = this.settings.backend === 'auto' ? undefined : this.settings.backend
      const backend = this.options.backend ?? process.env.CTXLENS_BACKEND ?? setting
      this.pool = EnginePool.create(n, { handlerModules: engineHandlerModules(), ...(backend ? { backend } : {}) })
      this.pool.catch(() => {
        this.pool = null
      })
    }
    return this.pool
  }

  get currentProject(): Project | null {
    return this.project
  }

  /** The open project, or the error every project-scoped method gives without one. */
  requireProject(): Project {
    if (!this.project) throw new AppError('NO_PROJECT_OPEN', 'No project is open; open or create a project file first')
    return this.project
  }

  setProject(project: Project | null): void {
    if (this.project && this.project !== project) this.project.close()
    this.project = project
  }

  /**
   * The app's own job list (benchmark runs, which need no project), opened on first use. Read from the home each
   * time, so a context whose CTXLENS_HOME changed does not write into the old one.
   */
  appJobs(): JobStore {
    const path = appJobStorePath()
    if (this.jobStore?.path !== path) {
      this.jobStore?.close()
      mkdirSync(dirname(path), { recursive: true })
      this.jobStore = JobStore.open(path)
    }
    return this.jobStore
  }

  /** The same, or null when nothing made one in this home yet: listing jobs creates no file. */
  existingAppJobs(): JobStore | null {
    return this.jobStore?.path === appJobStorePath() || existsSync(appJobStorePath()) ? this.appJobs() : null
  }

  dispose(): void {
    this.tasks.cancelAll()
    const pool = this.pool
    this.pool = null
    void pool?.then((p) => p.dispose()).catch(() => undefined)
    this.setProject(null)
    // A benchmark still running is paused by its lease's close hook, so it resumes at once next time.
    this.jobStore?.close()
    this.jobStore = null
  }
}
