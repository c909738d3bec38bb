import { z } from 'zod'
import { absolutePath } from '../absolutePath'
import {
  AuditOptionsSchema,
  AuditStatsSchema,
  ConfusionReportSchema,
  JobDetailSchema,
  PredictOptionsSchema,
  PredictReportSchema,
  StatsOptionsSchema
} from '../audit'
import { Id, JobSummarySchema } from '../types'

const jobRef = z.object({ jobId: Id }).strict()

/**
 * The demo's one sampling setting, for the app's first start and `ctxlens demo` alike: 150 segments per
 * (GT, predicted) pair (60 failed the demo's own 3× check).
 */
export const DEMO_SAMPLE_PER_PAIR = 150

/**
 * The demo's saliency settings over the Cityscapes preset (which stays the paper's: λ 0.01, lr 1): on the bundled
 * model λ 0.003 with lr 3 gives back the model's score for 353 of the demo's 373 explanations, the preset for 191
 * (BENCHMARKS.md, "Why explanations do not recover" and its last section). Overrides given to `audit:demo` go on top.
 */
export const DEMO_SALIENCY_PARAMS: Readonly<Record<string, unknown>> = Object.freeze({ lambda: 0.003, learningRate: 3 })

export const DemoOptionsSchema = z
  .object({
    /** The demo project file; default projects/demo.ctxlens in the app home, the file the desktop app's first start opens. It is opened afterwards. */
    projectPath: absolutePath('the demo project file').optional(),
    /** The model folder to audit; default the bundled resources/demo-model. */
    modelDir: absolutePath('the model folder').optional(),
    /** Test-split images generated (fixed seed, so every machine builds the same demo). */
    images: z.number().int().min(1).max(10_000).default(300),
    seed: z.number().int().min(0).default(20191),
    /** Saliency overrides on top of the Cityscapes preset (16×32 mask, 80 steps) and DEMO_SALIENCY_PARAMS. */
    params: z.record(z.string(), z.unknown()).default({}),
    /**
     * Segments audited per (GT, predicted) pair at most (seeded): thins the many correct riders and persons, keeps
     * every one of the rare rider→person errors.
     */
    samplePerPair: z.number().int().min(1).default(DEMO_SAMPLE_PER_PAIR),
    /** Segments audited at most, over all pairs (seeded sample). */
    sampleSize: z.number().int().min(1).optional(),
    /**
     * Delete the demo project and build it again. Without it an existing demo is reused when it was built with the
     * same settings, and refused (CONFLICT, naming the differences) when not, so other flags never silently get
     * the old audit.
     */
    rebuild: z.boolean().default(false)
  })
  .strict()

export const DemoReportSchema = z.object({
  projectPath: z.string(),
  datasetId: Id,
  modelId: Id,
  datasetDir: z.string(),
  predict: PredictReportSchema,
  job: JobSummarySchema,
  /** The audit existed before this call (built with the same settings) and was reused or resumed, not rebuilt. */
  reused: z.boolean()
})

/** Dataset audits: models in a project, predictions, explanation jobs, and their context statistics (Sec. 5). */
export const auditMethods = {
  /** Runs a model over a dataset on the worker threads: label maps and confidences stored, segments extracted, confusion and IoU. */
  'audit:predict': { input: PredictOptionsSchema, output: PredictReportSchema },

  /** Confusion matrix and per-class IoU of the stored predictions. */
  'audit:confusion': {
    input: z.object({ datasetId: Id, modelId: Id, split: z.string().min(1).optional() }).strict(),
    output: ConfusionReportSchema
  },

  /** Creates an audit job over the selected segments and starts it; progress comes as job:progress events. */
  'audit:start': { input: AuditOptionsSchema, output: JobSummarySchema },

  /** Continues a paused (or interrupted, or failed) job with the items that have no result yet. */
  'audit:resume': { input: z.object({ jobId: Id, wait: z.boolean().default(false) }).strict(), output: JobSummarySchema },

  /** Stops a running job after storing what is finished; it can be resumed. */
  'audit:pause': { input: jobRef, output: JobSummarySchema },

  /** Stops a job for good; its stored explanations stay. */
  'audit:cancel': { input: jobRef, output: JobSummarySchema },

  'audit:job': { input: jobRef, output: JobDetailSchema },

  /** Fig. 6 shares beside the contour baseline, densities and lift, Table 1, and bias alerts with bootstrap intervals. */
  'audit:stats': { input: StatsOptionsSchema, output: AuditStatsSchema },

  /** The statistics as the text audit:exportStats writes (CSV in long format, or JSON), for callers that print it. */
  'audit:formatStats': {
    input: StatsOptionsSchema.extend({ format: z.enum(['csv', 'json']) }),
    output: z.object({ format: z.enum(['csv', 'json']), text: z.string() })
  },

  /** The statistics written to a file as CSV (long format) or JSON; an existing file is CONFLICT unless `overwrite`. */
  'audit:exportStats': {
    input: StatsOptionsSchema.extend({ format: z.enum(['csv', 'json']), path: absolutePath('the statistics file'), overwrite: z.boolean().default(false) }),
    output: z.object({ path: z.string(), format: z.enum(['csv', 'json']), bytes: z.number().int() })
  },

  /** Builds the demo project: street scenes, import, the demo model, predictions, segments and a context audit of riders and persons. */
  'audit:demo': { input: DemoOptionsSchema, output: DemoReportSchema }
} as const
