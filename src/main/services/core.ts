import { resolve } from 'node:path'
import { listJobs } from '../jobs/status'
import { jobSubject } from '../audit/jobSubject'
import { Project } from '../store/project'
import { appInfo } from './appInfo'
import type { coreMethods } from '@common/methods/core'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'

export function coreServices(ctx: ServiceContext): AreaServices<typeof coreMethods> {
  return {
    'app:info': () => appInfo(ctx),
    'project:create': async ({ path, name }) => {
      const project = Project.create(resolve(path), name)
      ctx.setProject(project)
      return project.summary()
    },
    'project:open': async ({ path }) => {
      const project = Project.open(resolve(path))
      ctx.setProject(project)
      return project.summary()
    },
    'project:current': async () => ctx.currentProject?.summary() ?? null,
    'project:close': async () => {
      const had = ctx.currentProject !== null
      ctx.setProject(null)
      return { closed: had }
    },
    'tasks:list': async () => ctx.tasks.list(),
    'tasks:cancel': async ({ taskId }) => ({ cancelled: ctx.tasks.cancel(taskId) }),
    'jobs:list': async ({ state }) => {
      const project = ctx.requireProject()
      return listJobs(project, state).map((j) => ({ ...j, subject: jobSubject(project, j) }))
    }
  }
}
