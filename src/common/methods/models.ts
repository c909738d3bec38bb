import { z } from 'zod'
import { absolutePath } from '../absolutePath'
import { ModelSummarySchema } from '../audit'
import { DescriptionFlagsSchema, ModelCheckSchema, ModelInspectionSchema } from '../modelDescription'
import { ModelSidecarSchema } from '../modelSidecar'
import { Id } from '../types'
import { ModelViewSchema } from './viewer'

/** A model file path as the user gives it: an .onnx file, or a tfjs folder (or its model.json). */
const modelPath = absolutePath('the model file or folder')

export const ModelExaminationSchema = z.object({
  inspection: ModelInspectionSchema,
  checks: z.array(ModelCheckSchema),
  /** What adding the model would store; null while a flag is missing or a check fails. */
  description: ModelSidecarSchema.nullable(),
  missing: z.array(z.string()),
  /** A description is already stored beside the file and matches it. */
  stored: z.boolean()
})
export type ModelExamination = z.infer<typeof ModelExaminationSchema>

/**
 * Bringing your own model: inspect a file and run the import checks without storing anything, write its
 * description once, register it in the project, list the project's models, and show one with its description.
 */
export const modelMethods = {
  /** The project's models with what their descriptions say (input, classes, runtime), for pickers and lists. */
  'models:list': { input: z.object({}).strict(), output: z.array(ModelViewSchema) },

  /**
   * Registers a model (a tfjs folder or an .onnx file) in the open project, describing and checking it first when
   * `description` gives flags or none is stored beside it; the same weights twice are one model.
   */
  'models:add': {
    input: z.object({ dir: absolutePath('the model file or folder'), name: z.string().min(1).max(200).optional(), description: DescriptionFlagsSchema.optional() }).strict(),
    output: ModelSummarySchema
  },

  'models:inspect': {
    input: z.object({ path: modelPath, description: DescriptionFlagsSchema.default({}) }).strict(),
    output: ModelExaminationSchema
  },

  'models:describe': {
    input: z.object({ path: modelPath, description: DescriptionFlagsSchema }).strict(),
    output: z.object({ descriptionPath: z.string(), description: ModelSidecarSchema, checks: z.array(ModelCheckSchema) })
  },

  /**
   * Writes a tfjs Layers model folder as an ONNX file (NHWC in and out, as in tfjs), so the same weights run on
   * ONNX Runtime. Needs no project. An existing file is CONFLICT unless `overwrite`.
   */
  'models:exportOnnx': {
    input: z
      .object({
        modelDir: absolutePath('the model folder'),
        path: absolutePath('the .onnx file'),
        /** Fix the batch size at 1 instead of a symbolic "batch" dimension. */
        fixedBatch: z.boolean().default(false),
        overwrite: z.boolean().default(false)
      })
      .strict(),
    output: z.object({
      file: z.string(),
      bytes: z.number().int(),
      input: z.string(),
      output: z.string(),
      nodes: z.number().int(),
      /** Op type → count. */
      ops: z.record(z.string(), z.number().int())
    })
  },

  'models:show': {
    input: z.object({ modelId: Id }).strict(),
    output: z.object({ model: ModelSummarySchema, description: ModelSidecarSchema.nullable(), descriptionError: z.string().nullable(), predictions: z.number().int() })
  }
} as const
