import { z } from 'zod'

/** Shared value types of the contract. Schemas are the source; TypeScript types are inferred from them. */

export const BACKEND_NAMES = ['node-gpu', 'node', 'wasm', 'cpu'] as const
export const BackendNameSchema = z.enum(BACKEND_NAMES)
export type BackendName = z.infer<typeof BackendNameSchema>

export const Id = z.number().int().positive()

export const OnnxRuntimeInfoSchema = z.object({
  available: z.boolean(),
  version: z.string().nullable(),
  /** The execution provider ONNX sessions ask for. */
  provider: z.enum(['cpu', 'cuda']),
  providers: z.array(z.string()),
  /** Why the binding did not load, when it did not. */
  reason: z.string().optional()
})
export type OnnxRuntimeInfo = z.infer<typeof OnnxRuntimeInfoSchema>

export const AppInfoSchema = z.object({
  appName: z.string(),
  appVersion: z.string(),
  nodeVersion: z.string(),
  platform: z.string(),
  transport: z.enum(['electron', 'http', 'cli']),
  backend: z.object({
    name: BackendNameSchema,
    tfBackend: z.string(),
    forcedBy: z.enum(['flag', 'env', 'setting']).optional(),
    skipped: z.array(z.object({ name: BackendNameSchema, reason: z.string() }))
  }),
  /** The runtime of ONNX models (TensorFlow.js models run on `backend`). */
  onnxRuntime: OnnxRuntimeInfoSchema,
  project: z
    .object({ path: z.string(), schemaVersion: z.number().int(), latestSchemaVersion: z.number().int() })
    .nullable()
})
export type AppInfo = z.infer<typeof AppInfoSchema>

export const ProjectSummarySchema = z.object({
  path: z.string(),
  name: z.string(),
  schemaVersion: z.number().int(),
  createdAt: z.string(),
  counts: z.object({
    datasets: z.number().int(),
    images: z.number().int(),
    models: z.number().int(),
    explanations: z.number().int(),
    bookmarks: z.number().int(),
    jobs: z.number().int()
  })
})
export type ProjectSummary = z.infer<typeof ProjectSummarySchema>

export const ClassDefSchema = z.object({
  id: z.number().int().min(0).max(65535),
  name: z.string().min(1),
  color: z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)])
})
export type ClassDef = z.infer<typeof ClassDefSchema>

export const ClassSetSchema = z.object({
  id: Id,
  name: z.string(),
  classes: z.array(ClassDefSchema),
  ignoreIds: z.array(z.number().int())
})
export type ClassSet = z.infer<typeof ClassSetSchema>

export const DatasetSummarySchema = z.object({
  id: Id,
  name: z.string(),
  format: z.string(),
  root: z.string(),
  classSetId: Id,
  imageCount: z.number().int(),
  splits: z.record(z.string(), z.number().int()),
  createdAt: z.string()
})
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>

/**
 * 'interrupted' is never stored: it is how a job reads whose row says running but whose owner stopped beating
 * (killed, crashed, power lost). It can be resumed like a paused job.
 */
export const JOB_STATES = ['queued', 'running', 'interrupted', 'paused', 'cancelled', 'failed', 'done'] as const
export const JobStateSchema = z.enum(JOB_STATES)
export type JobState = z.infer<typeof JobStateSchema>
/** The states a job row can hold. */
export type StoredJobState = Exclude<JobState, 'interrupted'>

export const JobSummarySchema = z.object({
  id: Id,
  kind: z.string(),
  state: JobStateSchema,
  done: z.number().int(),
  failed: z.number().int(),
  total: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  error: z.string().nullable()
})
export type JobSummary = z.infer<typeof JobSummarySchema>

/**
 * Where a job is stored: in the open project (audits), or in the app's own job list (benchmark runs, which need no
 * project). Job ids are numbered per store, so a job is named by both.
 */
export const JobScopeSchema = z.enum(['project', 'app'])
export type JobScope = z.infer<typeof JobScopeSchema>

export const BOOKMARK_TARGETS = ['image', 'segment', 'explanation'] as const
export const BookmarkSchema = z.object({
  id: Id,
  targetKind: z.enum(BOOKMARK_TARGETS),
  targetId: Id,
  title: z.string(),
  tags: z.array(z.string()),
  createdAt: z.string()
})
export type Bookmark = z.infer<typeof BookmarkSchema>

export const NoteSchema = z.object({
  id: Id,
  targetKind: z.enum(BOOKMARK_TARGETS),
  targetId: Id,
  body: z.string(),
  createdAt: z.string(),
  updatedAt: z.string()
})
export type Note = z.infer<typeof NoteSchema>
