import { z } from 'zod'
import { ImportDatasetOptionsSchema, ImportReportSchema } from '../datasets'
import { TextureMnistOptionsSchema, TextureMnistSummarySchema } from '../textureMnist'
import { DatasetSummarySchema } from '../types'

const empty = z.object({}).strict()

/** Datasets: listing, importing folders, generating the synthetic benchmark. */
export const datasetMethods = {
  'datasets:list': { input: empty, output: z.array(DatasetSummarySchema) },

  /** Imports a dataset folder into the open project; good pairs go in, each broken file is reported by name. */
  'datasets:import': { input: ImportDatasetOptionsSchema.omit({ thumbnailDir: true }), output: ImportReportSchema },

  /** Writes the paper's synthetic benchmark set (Sec. 4.1) as a dataset folder; no project needed. */
  'datasets:generateTextureMnist': {
    input: TextureMnistOptionsSchema,
    output: TextureMnistSummarySchema.extend({ contactSheet: z.string() })
  },
} as const
