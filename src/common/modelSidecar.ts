import { z } from 'zod'
import { ClassDefSchema } from './types'

/** Model zoo and model-file schemas, shared by the engine, the store and the UI. */

export const ARCHITECTURES = ['unet-vgg', 'unet-resnet18', 'unet-mobilenetv2', 'deeplabv3plus-mobilenetv2'] as const
export const ArchitectureSchema = z.enum(ARCHITECTURES)
export type Architecture = z.infer<typeof ArchitectureSchema>

const positiveInt = z.number().int().positive()

/**
 * What the zoo builds. `levels` is the number of 2× downsamplings of a U-Net encoder (DeepLab is fixed at output
 * stride 16 and ignores it); `width` scales every channel count.
 */
export const ModelSpecSchema = z.object({
  architecture: ArchitectureSchema,
  inputShape: z.tuple([positiveInt, positiveInt, positiveInt]),
  numClasses: z.number().int().min(2),
  width: z.number().positive().max(4).default(1),
  levels: z.number().int().min(1).max(6).default(4),
  batchNorm: z.boolean().default(true),
  seed: z.number().int().min(0).default(0),
  /** DeepLab only: dilation rates of the three atrous ASPP branches at output stride 16. */
  atrousRates: z.tuple([positiveInt, positiveInt, positiveInt]).optional()
})
/** The spec as callers write it (defaults optional). */
export type ModelSpecInput = z.input<typeof ModelSpecSchema>
/** The spec with defaults filled in. */
export type ModelSpec = z.output<typeof ModelSpecSchema>

/**
 * How 8-bit pixel values (0..255) become model input. Every variant is an affine map per channel,
 * `x = raw·scale + offset`, so the input range the model expects follows from it (see `normalisationAffine`).
 * - `range`: raw 0..255 mapped linearly onto [min, max] (e.g. [0, 1], or [-1, 1] as MobileNet expects).
 * - `meanStd`: `x = (raw·scale − mean) / std` per channel (ImageNet style with scale 1/255; Caffe style with scale 1).
 */
export const NormalisationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('range'), min: z.number(), max: z.number() }).refine((n) => n.max > n.min, {
    message: 'max must be greater than min'
  }),
  z.object({
    kind: z.literal('meanStd'),
    scale: z.number().positive(),
    mean: z.array(z.number()).min(1),
    std: z.array(z.number().positive()).min(1)
  })
])
export type Normalisation = z.infer<typeof NormalisationSchema>

/** Per-channel affine map from 8-bit pixels to model input, and the resulting input range. */
export function normalisationAffine(n: Normalisation, channels: number): { scale: number[]; offset: number[]; min: number[]; max: number[] } {
  const scale: number[] = []
  const offset: number[] = []
  for (let c = 0; c < channels; c++) {
    if (n.kind === 'range') {
      scale.push((n.max - n.min) / 255)
      offset.push(n.min)
    } else {
      // A single mean/std value applies to every channel (grayscale statistics reused for RGB and vice versa).
      const mean = n.mean[n.mean.length === 1 ? 0 : c]
      const std = n.std[n.std.length === 1 ? 0 : c]
      scale.push(n.scale / std)
      offset.push(-mean / std)
    }
  }
  return {
    scale,
    offset,
    min: offset.map((o, c) => Math.min(o, o + 255 * scale[c])),
    max: offset.map((o, c) => Math.max(o, o + 255 * scale[c]))
  }
}

/** tfjs's two model kinds, and an ONNX file (described in `<file>.onnx.ctxlens.json`, see modelDescription.ts). */
export const MODEL_FORMATS = ['layers-model', 'graph-model', 'onnx'] as const
export const ModelFormatSchema = z.enum(MODEL_FORMATS)
export type ModelFormat = z.infer<typeof ModelFormatSchema>

/** Training record kept with a model; open-ended because each trainer adds its own details. */
export const TrainingInfoSchema = z.looseObject({
  dataset: z.string().optional(),
  bias: z.string().optional(),
  epochs: z.number().int().nonnegative().optional(),
  batchSize: z.number().int().positive().optional(),
  optimizer: z.string().optional(),
  learningRate: z.number().positive().optional(),
  seed: z.number().int().optional(),
  trainedAt: z.string().optional(),
  metrics: z.record(z.string(), z.number()).optional()
})
export type TrainingInfo = z.infer<typeof TrainingInfoSchema>

export const SIDECAR_FILE = 'ctxlens.model.json'
export const SIDECAR_FORMAT = 'ctxlens.model'
export const SIDECAR_VERSION = 1

/**
 * `ctxlens.model.json`, written next to a tfjs `model.json`. Output channel k of the model is `classes[k]`.
 */
export const ModelSidecarSchema = z
  .object({
    format: z.literal(SIDECAR_FORMAT),
    version: z.literal(SIDECAR_VERSION),
    name: z.string().min(1),
    modelFormat: ModelFormatSchema,
    classes: z.array(ClassDefSchema).min(2),
    /** Label id that marks unlabelled pixels in ground truth (never an output channel), or null. */
    ignoreId: z.number().int().min(0).max(65535).nullable(),
    input: z.object({ height: positiveInt, width: positiveInt, channels: positiveInt }),
    normalisation: NormalisationSchema,
    /** A zoo architecture name, or a free description for imported models (e.g. "keras-import"). */
    architecture: z.string().min(1),
    /** Present when the model came from the zoo, so it can be rebuilt or retrained. */
    spec: ModelSpecSchema.optional(),
    training: TrainingInfoSchema.optional(),
    /** GraphModel and ONNX: which output node is the class map when the graph has several. */
    outputName: z.string().optional(),
    /** ONNX: the graph input the image is fed to. */
    inputName: z.string().optional(),
    /** Whether the output is per-pixel probabilities (the default) or logits the engine turns into them with a softmax. */
    output: z.enum(['logits', 'probabilities']).optional(),
    /** ONNX: the tensor layout of input and output, and whether it was read from the graph or assumed. */
    layout: z.enum(['NCHW', 'NHWC']).optional(),
    layoutSource: z.enum(['graph', 'flag', 'assumed']).optional(),
    /** The output's resolution is the input's divided by this (bilinear upsampling restores it); 1 when equal. */
    outputStride: positiveInt.optional(),
    /** sha256 (hex) over model.json bytes followed by every weight shard in manifest order; for ONNX over the file. */
    contentHash: z.string().regex(/^[0-9a-f]{64}$/),
    createdAt: z.string().optional()
  })
  .superRefine((s, ctx) => {
    const ids = s.classes.map((c) => c.id)
    if (new Set(ids).size !== ids.length) ctx.addIssue({ code: 'custom', message: 'class ids must be distinct', path: ['classes'] })
    if (s.ignoreId !== null && ids.includes(s.ignoreId)) {
      ctx.addIssue({ code: 'custom', message: 'ignoreId must not be one of the class ids', path: ['ignoreId'] })
    }
    if (s.normalisation.kind === 'meanStd') {
      for (const key of ['mean', 'std'] as const) {
        const n = s.normalisation[key].length
        if (n !== 1 && n !== s.input.channels) {
          ctx.addIssue({ code: 'custom', message: `${key} needs 1 or ${s.input.channels} values`, path: ['normalisation', key] })
        }
      }
    }
    if (s.spec) {
      const [h, w, c] = s.spec.inputShape
      if (h !== s.input.height || w !== s.input.width || c !== s.input.channels) {
        ctx.addIssue({ code: 'custom', message: 'spec.inputShape disagrees with input', path: ['spec', 'inputShape'] })
      }
      if (s.spec.numClasses !== s.classes.length) {
        ctx.addIssue({ code: 'custom', message: 'spec.numClasses disagrees with the class list', path: ['spec', 'numClasses'] })
      }
    }
  })
export type ModelSidecar = z.infer<typeof ModelSidecarSchema>

/** What a caller supplies to describe a model; format, version, hash and model format are filled in on save. */
export type ModelSidecarInput = Omit<z.input<typeof ModelSidecarSchema>, 'format' | 'version' | 'contentHash' | 'modelFormat'>

/** Size of a zoo model: parameters and multiply-accumulates for one image at the model's input size. */
export const ModelStatsSchema = z.object({
  params: z.number().int(),
  trainableParams: z.number().int(),
  macs: z.number().int()
})
export type ModelStats = z.infer<typeof ModelStatsSchema>
