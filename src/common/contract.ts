import { z } from 'zod'
import { ErrorShapeSchema } from './errors'
import { annotationMethods } from './methods/annotations'
import { auditMethods } from './methods/audit'
import { benchmarkMethods } from './methods/benchmark'
import { coreMethods } from './methods/core'
import { datasetMethods } from './methods/datasets'
import { explainMethods } from './methods/explain'
import { modelMethods } from './methods/models'
import { reportMethods } from './methods/reports'
import { viewerMethods } from './methods/viewer'
import { Id, JobScopeSchema, JobStateSchema } from './types'

/**
 * The one table of service methods, assembled from one module per area (src/common/methods). The service layer,
 * the IPC handler, the HTTP routes, the CLI and the renderer's client are all derived from it, so adding a
 * method is one entry in its area's module plus its implementation. Channel names are `<area>:<method>`.
 */
const areas = [coreMethods, datasetMethods, explainMethods, modelMethods, annotationMethods, auditMethods, viewerMethods, reportMethods, benchmarkMethods] as const

/** Spreading areas into one object would let a later area silently replace an earlier area's method. */
export function duplicateMethodNames(modules: readonly object[]): string[] {
  const seen = new Set<string>()
  const duplicates: string[] = []
  for (const m of modules) {
    for (const name of Object.keys(m)) {
      if (seen.has(name)) duplicates.push(name)
      seen.add(name)
    }
  }
  return duplicates
}
const duplicates = duplicateMethodNames(areas)
if (duplicates.length > 0) throw new Error(`Service methods declared in more than one area: ${duplicates.join(', ')}`)

export const contract = {
  ...coreMethods,
  ...datasetMethods,
  ...explainMethods,
  ...modelMethods,
  ...annotationMethods,
  ...auditMethods,
  ...viewerMethods,
  ...reportMethods,
  ...benchmarkMethods
} as const

export type Contract = typeof contract
export type Method = keyof Contract
export type Input<M extends Method> = z.input<Contract[M]['input']>
export type ParsedInput<M extends Method> = z.output<Contract[M]['input']>
export type Output<M extends Method> = z.output<Contract[M]['output']>

export const METHODS = Object.keys(contract) as Method[]

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(contract, name)
}

/** What the main side implements: one async function per method, taking the already validated input. */
export type ServiceImpl = { [M in Method]: (input: ParsedInput<M>) => Promise<Output<M>> }

/** What the renderer (and tests) call: raw input in, typed output out, errors rethrown as AppError. */
export type Client = { [M in Method]: (input: Input<M>) => Promise<Output<M>> }

/** Every reply on every transport, so a client can rebuild a real error on its side. */
export type Reply<T> = { ok: true; result: T } | { ok: false; error: z.infer<typeof ErrorShapeSchema> }

// ---- push events (main → renderer) -------------------------------------------------------------------------

export const events = {
  'job:progress': z.object({
    jobId: Id,
    state: JobStateSchema,
    done: z.number().int(),
    failed: z.number().int(),
    total: z.number().int(),
    ratePerSecond: z.number().nullable(),
    etaSeconds: z.number().nullable(),
    message: z.string().optional(),
    /** Absent: a job of the open project (audits), whose events never said where they were stored. */
    scope: JobScopeSchema.optional(),
    /** The job's kind ('benchmark'), so a bar can name it before the next job list; absent on audits' events. */
    kind: z.string().optional(),
    /**
     * A job whose items are long steps (a benchmark's phases: train a model, explain a test set): the running
     * step, labelled "i/n what", and its own progress, which moves while the job's done count waits for it.
     */
    step: z.object({ label: z.string(), done: z.number(), total: z.number() }).optional()
  }),
  /** Long work run as a task: dataset generation, single explanations, and a stored job while it runs. */
  'task:progress': z.object({
    taskId: z.number().int(),
    label: z.string(),
    state: z.enum(['running', 'done', 'failed', 'cancelled']),
    done: z.number(),
    total: z.number(),
    message: z.string().optional(),
    /** While the task runs a stored job: its job:progress events carry the same progress, with rate and failures. */
    jobId: Id.optional(),
    /** A user is waiting for it at the screen that started it (an explanation): not shown as background work. */
    interactive: z.boolean().optional()
  }),
  log: z.object({
    level: z.enum(['debug', 'info', 'warn', 'error']),
    message: z.string(),
    time: z.string()
  })
} as const

export type EventName = keyof typeof events
export type EventPayload<E extends EventName> = z.infer<(typeof events)[E]>
export type AnyEvent = { [E in EventName]: { event: E; payload: EventPayload<E> } }[EventName]

/** The bridge the preload exposes as `window.ctxlens`: the contract and nothing else. */
export interface Bridge {
  invoke(method: Method, input: unknown): Promise<Reply<unknown>>
  onEvent(listener: (event: AnyEvent) => void): () => void
}
