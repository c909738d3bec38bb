import { z } from 'zod'
import { absolutePath } from '../absolutePath'
import { DescriptionFlagsSchema } from '../modelDescription'
import { SaliencyMethodSchema, SaliencyPresetNameSchema } from '../saliency'
import { Id } from '../types'
import { ExplanationViewSchema, RequestSpecSchema } from './viewer'

/** Explanations of single images outside a project (the `ctxlens explain` path) and of a stored image's request (the image screen). */
export const explainMethods = {
  /**
   * Explain one image file with a model folder: the request is a mask file or every predicted segment of the
   * class. Files are written to outDir; the answer lists them with each result's numbers.
   */
  'explain:image': {
    input: z
      .object({
        /** A tfjs model folder or an .onnx file. */
        modelDir: absolutePath('the model file or folder'),
        /** Description flags for a model not described yet (or to describe anew). */
        description: DescriptionFlagsSchema.optional(),
        imagePath: absolutePath('the image file'),
        classId: z.number().int().min(0),
        request: z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('file'), path: absolutePath('the request mask file') }),
          z.object({ kind: z.literal('auto'), minArea: z.number().int().min(1).default(1) })
        ]),
        method: SaliencyMethodSchema,
        preset: SaliencyPresetNameSchema.default('synthetic'),
        params: z.record(z.string(), z.unknown()).default({}),
        outDir: absolutePath('the output folder')
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

  /**
   * Explain one request on a stored image with a registered model, on the engine's worker pool; stored in the
   * project. Progress arrives as task events labelled `explain <method>`; 'tasks:cancel' stops it.
   */
  'explain:segment': {
    input: z
      .object({
        imageId: Id,
        modelId: Id,
        request: RequestSpecSchema,
        /** The class to explain; defaults to the first segment's predicted (else GT) class. */
        classId: z.number().int().min(0).optional(),
        method: SaliencyMethodSchema,
        preset: SaliencyPresetNameSchema.default('synthetic'),
        params: z.record(z.string(), z.unknown()).default({})
      })
      .strict(),
    output: ExplanationViewSchema
  }
} as const
