import { z } from 'zod'
import { absolutePath } from '../absolutePath'
import { ImportDatasetOptionsSchema, ImportReportSchema } from '../datasets'
import { TextureMnistOptionsSchema, TextureMnistSummarySchema } from '../textureMnist'
import { DatasetSummarySchema } from '../types'

const empty = z.object({}).strict()

/** Datasets: listing, importing folders, generating the synthetic benchmark. */
export const datasetMethods = {
  'datasets:list': { input: empty, output: z.array(DatasetSummarySchema) },

  /** Imports a dataset folder into the open project; good pairs go in, each broken file is reported by name. */
  'datasets:import': { input: ImportDatasetOptionsSchema.omit({ thumbnailDir: true }).extend({ root: absolutePath('the dataset folder') }), output: ImportReportSchema },

  /** Writes the paper's synthetic benchmark set (Sec. 4.1) as a dataset folder; no project needed. */
  'datasets:generateTextureMnist': {
    input: TextureMnistOptionsSchema.safeExtend({ outDir: absolutePath('the output folder'), mnistDir: absolutePath('the MNIST folder').optional() }),
    output: TextureMnistSummarySchema.extend({ contactSheet: z.string() })
  },
} as const
