import { z } from 'zod'
import { absolutePath } from '../absolutePath'
import { BenchmarkPresetInfoSchema, BenchmarkPresetSchema, BenchmarkResultSchema } from '../benchmark'

/** The context-bias benchmark (paper Sec. 4, Fig. 4); no project needed. */
export const benchmarkMethods = {
  'benchmark:presets': { input: z.object({}).strict(), output: z.array(BenchmarkPresetInfoSchema) },

  /**
   * Runs a preset, a config object or a config file (exactly one), reusing the finished units of an earlier run of
   * the same config. Progress arrives as task:progress events labelled 'benchmark'; tasks:cancel stops it.
   */
  'benchmark:run': {
    input: z
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
      }),
    output: BenchmarkResultSchema
  }
} as const
