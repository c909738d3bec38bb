import { z } from 'zod'
import { ImportDatasetOptionsSchema, ImportReportSchema } from './datasets'
import { ErrorShapeSchema } from './errors'
import { SaliencyMethodSchema, SaliencyPresetNameSchema } from './saliency'
import { TextureMnistOptionsSchema, TextureMnistSummarySchema } from './textureMnist'
import {
  AppInfoSchema,
  BOOKMARK_TARGETS,
  BookmarkSchema,
  DatasetSummarySchema,
  Id,
  JobStateSchema,
  JobSummarySchema,
  NoteSchema,
  ProjectSummarySchema
} from './types'

/**
 * The one place a service method is declared. The service layer, the IPC handler, the HTTP routes, the CLI and
 * the renderer's client are all derived from this table, so adding a method is one edit here plus its
 * implementation. Channel names are `<area>:<method>`.
 */
const empty = z.object({}).strict()
const targetKind = z.enum(BOOKMARK_TARGETS)
const projectPath = z.string().min(1, 'a project file path is required')

export const contract = {
  'app:info': { input: empty, output: AppInfoSchema },

  'project:create': {
    input: z.object({ path: projectPath, name: z.string().min(1).max(200).optional() }).strict(),
    output: ProjectSummarySchema
  },
  'project:open': { input: z.object({ path: projectPath }).strict(), output: ProjectSummarySchema },
  'project:current': { input: empty, output: ProjectSummarySchema.nullable() },
  'project:close': { input: empty, output: z.object({ closed: z.boolean() }) },

  'datasets:list': { input: empty, output: z.array(DatasetSummarySchema) },
  /** Imports a dataset folder into the open project; good pairs go in, each broken file is reported by name. */
  'datasets:import': { input: ImportDatasetOptionsSchema.omit({ thumbnailDir: true }), output: ImportReportSchema },
  /** Writes the paper's synthetic benchmark set (Sec. 4.1) as a dataset folder; no project needed. */
  'datasets:generateTextureMnist': {
    input: TextureMnistOptionsSchema,
    output: TextureMnistSummarySchema.extend({ contactSheet: z.string() })
  },

  /**
   * Explain one image file with a model folder: the request is a mask file or every predicted segment of the
   * class. Files are written to outDir; the answer lists them with each result's numbers.
   */
  'explain:image': {
    input: z
      .object({
        modelDir: z.string().min(1),
        imagePath: z.string().min(1),
        classId: z.number().int().min(0),
        request: z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('file'), path: z.string().min(1) }),
          z.object({ kind: z.literal('auto'), minArea: z.number().int().min(1).default(1) })
        ]),
        method: SaliencyMethodSchema,
        preset: SaliencyPresetNameSchema.default('synthetic'),
        params: z.record(z.string(), z.unknown()).default({}),
        outDir: z.string().min(1)
      })
      .strict(),
    output: z.array(
      z.object({
        name: z.string(),
        area: z.number().int(),
        bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable(),
        files: z.object({ maskPng: z.string(), maskNpy: z.string(), overlayPng: z.string(), summaryJson: z.string() }),
        summary: z.record(z.string(), z.unknown())
      })
    )
  },

  'tasks:list': { input: empty, output: z.array(z.object({ taskId: z.number().int(), label: z.string() })) },
  'tasks:cancel': { input: z.object({ taskId: z.number().int() }).strict(), output: z.object({ cancelled: z.boolean() }) },

  'jobs:list': {
    input: z.object({ state: JobStateSchema.optional() }).strict(),
    output: z.array(JobSummarySchema)
  },

  'bookmarks:list': {
    input: z.object({ targetKind: targetKind.optional(), tag: z.string().optional() }).strict(),
    output: z.array(BookmarkSchema)
  },
  'bookmarks:add': {
    input: z
      .object({
        targetKind,
        targetId: Id,
        title: z.string().max(500).default(''),
        tags: z.array(z.string().min(1).max(64)).max(32).default([])
      })
      .strict(),
    output: BookmarkSchema
  },
  'bookmarks:remove': { input: z.object({ id: Id }).strict(), output: z.object({ removed: z.boolean() }) },

  'notes:list': { input: z.object({ targetKind, targetId: Id }).strict(), output: z.array(NoteSchema) },
  'notes:add': {
    input: z.object({ targetKind, targetId: Id, body: z.string().min(1).max(20_000) }).strict(),
    output: NoteSchema
  }
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
    message: z.string().optional()
  }),
  /** Long work that is not a stored job: dataset generation, single explanations. */
  'task:progress': z.object({
    taskId: z.number().int(),
    label: z.string(),
    state: z.enum(['running', 'done', 'failed', 'cancelled']),
    done: z.number(),
    total: z.number(),
    message: z.string().optional()
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
export const EVENT_NAMES = Object.keys(events) as EventName[]

/** The bridge the preload exposes as `window.ctxlens`: the contract and nothing else. */
export interface Bridge {
  invoke(method: Method, input: unknown): Promise<Reply<unknown>>
  onEvent(listener: (event: AnyEvent) => void): () => void
}
