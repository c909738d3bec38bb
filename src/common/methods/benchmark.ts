import { z } from 'zod'
import { absolutePath } from '../absolutePath'
import { BenchmarkJobParamsSchema, BenchmarkPresetInfoSchema, BenchmarkPresetSchema, BenchmarkResultSchema } from '../benchmark'
import { Id } from '../types'
import { JobListItemSchema } from './core'

const BenchmarkRunInputSchema = z
  .object({
    preset: BenchmarkPresetSchema.optional(),
    /** Parsed by the runner, whose errors name every bad field. */
    config: z.record(z.string(), z.unknown()).optional(),
    configFile: absolutePath('the config file').optional(),
    /** Root of the run folders (default: <app home>/benchmark). */
    outDir: absolutePath('the output folder').optional(),
    /** false skips the sanity check (cascading randomisation) whatever the config says; true runs it. */
    sanityCheck: z.boolean().optional()
  })
  .strict()
  .refine((v) => [v.preset, v.config, v.configFile].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of preset, config or configFile'
  })

/** A benchmark job as the Jobs and Benchmark screens show it. */
export const BenchmarkJobSchema = JobListItemSchema.extend({
  params: BenchmarkJobParamsSchema,
  /** Runs in this app (so pause and cancel reach it here; one run by another process is stopped there). */
  running: z.boolean(),
  /** The step it is at, when it runs in this app: what job:progress last said. */
  step: z.object({ label: z.string(), done: z.number(), total: z.number() }).nullable(),
  /** A finished job's results (its run folder's results.json); null before, or when that file is gone. */
  result: BenchmarkResultSchema.nullable()
})
export type BenchmarkJob = z.infer<typeof BenchmarkJobSchema>

const jobRef = z.object({ jobId: Id }).strict()

/**
 * The context-bias benchmark (paper Sec. 4, Fig. 4); no project needed. Every run is a job of the app's own job
 * list (scope 'app' in jobs:list), so it is listed, paused, resumed and cancelled like an audit, and its progress
 * (job:progress, with the running step) and result outlive the screen that started it. Finished units of a run
 * stay in its run folder, so a resumed or repeated run of the same config computes only what is missing.
 */
export const benchmarkMethods = {
  'benchmark:presets': { input: z.object({}).strict(), output: z.array(BenchmarkPresetInfoSchema) },

  /**
   * Runs a preset, a config object or a config file (exactly one) and waits for its result. A paused or
   * interrupted job of the same config is resumed rather than a new one made. Stopped (tasks:cancel, pause or
   * cancel), it fails with CANCELLED naming the job.
   */
  'benchmark:run': { input: BenchmarkRunInputSchema, output: BenchmarkResultSchema },

  /**
   * A finished run (its folder's results.json) as the CLI prints it: the summary (tables, verdicts) and, when the
   * run had one, the sanity check's line. Kept in the service so that the text has one author whatever prints it.
   */
  'benchmark:summary': {
    input: z.object({ runDir: absolutePath('the run folder') }).strict(),
    output: z.object({ text: z.string(), sanity: z.string().nullable() })
  },

  /** As benchmark:run, without waiting: the job, whose progress then comes as job:progress events. */
  'benchmark:start': { input: BenchmarkRunInputSchema, output: BenchmarkJobSchema },

  /** Reruns a paused, interrupted or failed job's config; its finished units come from the run folder. */
  'benchmark:resume': { input: z.object({ jobId: Id, wait: z.boolean().default(false) }).strict(), output: BenchmarkJobSchema },

  /** Stops a running job; it can be resumed. */
  'benchmark:pause': { input: jobRef, output: BenchmarkJobSchema },

  /** Stops a job for good; its run folder (and what a later run of the same config reuses) stays. */
  'benchmark:cancel': { input: jobRef, output: BenchmarkJobSchema },

  'benchmark:job': { input: jobRef, output: BenchmarkJobSchema },

  /**
   * What the Benchmark screen opens on: the newest benchmark job, whatever its state, and the newest finished one
   * with its result (the same job when the newest has finished).
   */
  'benchmark:latest': {
    input: z.object({}).strict(),
    output: z.object({ job: BenchmarkJobSchema.nullable(), finished: BenchmarkJobSchema.nullable() })
  }
} as const
