import { z } from 'zod'
import { absolutePath } from '../absolutePath'
import { AppInfoSchema, JobStateSchema, JobSummarySchema, ProjectSummarySchema } from '../types'

const empty = z.object({}).strict()
const projectPath = absolutePath('the project file')

/** The app itself, the open project, and long work in progress (tasks and stored jobs). */
export const coreMethods = {
  'app:info': { input: empty, output: AppInfoSchema },

  'project:create': {
    input: z.object({ path: projectPath, name: z.string().min(1).max(200).optional() }).strict(),
    output: ProjectSummarySchema
  },

  'project:open': { input: z.object({ path: projectPath }).strict(), output: ProjectSummarySchema },

  'project:current': { input: empty, output: ProjectSummarySchema.nullable() },

  'project:close': { input: empty, output: z.object({ closed: z.boolean() }) },

  'tasks:list': { input: empty, output: z.array(z.object({ taskId: z.number().int(), label: z.string() })) },

  'tasks:cancel': { input: z.object({ taskId: z.number().int() }).strict(), output: z.object({ cancelled: z.boolean() }) },

  'jobs:list': {
    input: z.object({ state: JobStateSchema.optional() }).strict(),
    output: z.array(JobSummarySchema)
  },
} as const
