import { z } from 'zod'
import { absolutePath } from '../absolutePath'
import { AppInfoSchema, JobScopeSchema, JobStateSchema, JobSummarySchema, ProjectSummarySchema } from '../types'

const empty = z.object({}).strict()

/**
 * What a job works on, by name: dataset, model, the requested classes (null: all of them), saliency method and
 * preset (a benchmark's: its preset, or its config's name). Fields a job kind does not have are null.
 */
export const JobSubjectSchema = z.object({
  dataset: z.string().nullable(),
  model: z.string().nullable(),
  classes: z.array(z.string()).nullable(),
  method: z.string().nullable(),
  preset: z.string().nullable()
})
export type JobSubject = z.infer<typeof JobSubjectSchema>

export const JobListItemSchema = JobSummarySchema.extend({ scope: JobScopeSchema, subject: JobSubjectSchema })
export type JobListItem = z.infer<typeof JobListItemSchema>
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

  /**
   * The open project's jobs and the app's own (benchmark runs), newest first; without a project, the app's alone.
   * `scope` says which store a job's id belongs to.
   */
  'jobs:list': {
    input: z.object({ state: JobStateSchema.optional() }).strict(),
    output: z.array(JobListItemSchema)
  },
} as const
