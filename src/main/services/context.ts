import { AppError } from '@common/errors'
import type { AppInfo } from '@common/types'
import { Project } from '../store/project'
import { EventBus } from './events'
import { ModelCache } from './modelCache'
import { TaskRegistry } from './tasks'

/** State shared by all services of one running app (one per Electron window, server or CLI invocation). */
export class ServiceContext {
  readonly events = new EventBus()
  readonly tasks = new TaskRegistry(this.events)
  readonly models: ModelCache
  private project: Project | null = null

  constructor(
    readonly transport: AppInfo['transport'],
    readonly options: { backend?: string } = {}
  ) {
    this.models = new ModelCache({ flag: options.backend })
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

  dispose(): void {
    this.tasks.cancelAll()
    this.models.clear()
    this.setProject(null)
  }
}
