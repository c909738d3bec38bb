import { resolve } from 'node:path'
import type { JobListItem } from '@common/methods/core'
import { listJobs } from '../jobs/status'
import { jobSubject } from '../audit/jobSubject'
import { BENCHMARK_JOB_KIND, benchmarkJobSubject } from '../benchmark'
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
      const project = ctx.currentProject
      const own: JobListItem[] = project ? listJobs(project, state).map((j) => ({ ...j, scope: 'project', subject: jobSubject(project, j) })) : []
      const store = ctx.existingAppJobs()
      const none = { dataset: null, model: null, classes: null, method: null, preset: null }
      const app: JobListItem[] = store
        ? listJobs(store, state).map((j) => ({ ...j, scope: 'app', subject: j.kind === BENCHMARK_JOB_KIND ? benchmarkJobSubject(store, j.id) : none }))
        : []
      // Newest first across both; the sort is stable, so jobs of one store started in the same millisecond keep its order.
      return [...own, ...app].sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    }
  }
}
