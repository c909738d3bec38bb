import { z } from 'zod'
import { SaliencyMethodSchema, SaliencyPresetNameSchema } from '../saliency'
import { BOOKMARK_TARGETS, ClassDefSchema, Id } from '../types'

/**
 * What the auditor's screens read: pages of images with filters, one image with its label maps and segments, and
 * explanations of one request on one stored image. Pixel planes and maps travel as typed arrays: Electron IPC
 * carries them as they are (structured clone), and the JSON edges (HTTP, `--json`) turn them into base64 and back
 * with one codec (@common/wire). Label planes are one byte per pixel (class ids fit a byte in every supported
 * dataset, 255 = ignored / none); masks drawn by hand travel as runs so a Cityscapes-sized request stays small.
 */

const float32 = z.custom<Float32Array>((v) => v instanceof Float32Array, 'expected a Float32Array')
const uint8 = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected a Uint8Array')

export const IMAGE_SORTS = ['id', 'name', 'errors', 'explanations'] as const
export const ImageSortSchema = z.enum(IMAGE_SORTS)
export type ImageSort = z.infer<typeof ImageSortSchema>

export const ImageFilterSchema = z
  .object({
    datasetId: Id.optional(),
    split: z.string().min(1).optional(),
    /** Substring of the file path, case-insensitive. */
    search: z.string().max(200).optional(),
    /** Every listed class must be present in the ground truth (by stored segments). */
    classes: z.array(z.number().int().min(0)).max(64).optional(),
    /**
     * Misclassified segments of ground truth `gt` predicted as `pred` (by the given model, or any). Either side may
     * be left out for "any class" (rider → any: every rider the model got wrong), not both.
     */
    error: z
      .object({ gt: z.number().int().min(0).optional(), pred: z.number().int().min(0).optional() })
      .strict()
      .refine((e) => e.gt !== undefined || e.pred !== undefined, 'an error filter needs a ground-truth or a predicted class')
      .optional(),
    modelId: Id.optional(),
    bookmarked: z.boolean().optional(),
    explained: z.boolean().optional()
  })
  .strict()
export type ImageFilter = z.infer<typeof ImageFilterSchema>

export const ImageListItemSchema = z.object({
  id: Id,
  datasetId: Id,
  path: z.string(),
  split: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  /** Misclassified segments in the image; under an error filter, only those of the filtered kind. */
  errors: z.number().int(),
  explanations: z.number().int(),
  bookmarked: z.boolean()
})
export type ImageListItem = z.infer<typeof ImageListItemSchema>

export const SegmentViewSchema = z.object({
  id: Id,
  modelId: Id.nullable(),
  kind: z.string(),
  gtClass: z.number().int().nullable(),
  predClass: z.number().int().nullable(),
  area: z.number().int(),
  bbox: z.tuple([z.number().int(), z.number().int(), z.number().int(), z.number().int()]),
  confidence: z.number().nullable(),
  /** The mask cropped to bbox (w×h bytes, 0/1). */
  cropMask: uint8
})
export type SegmentView = z.infer<typeof SegmentViewSchema>

export const ModelViewSchema = z.object({
  id: Id,
  name: z.string(),
  architecture: z.string(),
  dir: z.string(),
  predictions: z.number().int(),
  input: z.object({ height: z.number().int(), width: z.number().int(), channels: z.number().int() }).nullable(),
  /** From the stored description (all null or empty when it cannot be read): runtime, classes, normalisation. */
  runtime: z.enum(['onnx', 'tfjs']).nullable().default(null),
  modelFormat: z.string().nullable().default(null),
  classes: z.array(ClassDefSchema).default([]),
  normalisation: z.string().nullable().default(null),
  output: z.enum(['logits', 'probabilities']).nullable().default(null),
  layout: z.enum(['NCHW', 'NHWC']).nullable().default(null)
})
export type ModelView = z.infer<typeof ModelViewSchema>

export const ExplanationViewSchema = z.object({
  id: Id,
  imageId: Id,
  modelId: Id,
  segmentId: Id.nullable(),
  method: z.string(),
  classId: z.number().int(),
  params: z.record(z.string(), z.unknown()),
  summary: z.record(z.string(), z.unknown()),
  width: z.number().int(),
  height: z.number().int(),
  saliencyHeight: z.number().int(),
  saliencyWidth: z.number().int(),
  /**
   * The stored map at its own resolution (saliencyHeight×saliencyWidth, row-major): a mask in [0, 1], or a
   * gradient map. The screen draws it with `saliencyDisplayBytes` (@common/saliencyMap), so it is sent small.
   */
  saliency: float32,
  /** The request R at image size as runs [start, length, …] of its pixels (@common/maskRuns), as drawn ones are sent. */
  request: z.array(z.number().int()),
  createdAt: z.string()
})
export type ExplanationView = z.infer<typeof ExplanationViewSchema>

/** A request: stored segments (their union), or a mask drawn by hand as runs [start, length, start, length, …]. */
export const RequestSpecSchema = z.union([
  z.object({ segmentIds: z.array(Id).min(1).max(256) }).strict(),
  z.object({ runs: z.array(z.number().int().min(0)).max(2_000_000) }).strict()
])

/** How the segments behind one confusion cell are ordered: by size or by the model's mean confidence in them. */
export const PAIR_SEGMENT_SORTS = ['area', 'confidence'] as const
export const PairSegmentSortSchema = z.enum(PAIR_SEGMENT_SORTS)
export type PairSegmentSort = z.infer<typeof PairSegmentSortSchema>

/**
 * One model's predictions over one dataset (or one split of it): the scope of the error-case screen. `minArea`
 * leaves out segments smaller than that many pixels: fragments of a few pixels along class borders are mostly
 * label noise, and there are many of them.
 */
const ErrorScopeSchema = z.object({ datasetId: Id, modelId: Id, split: z.string().min(1).optional(), minArea: z.number().int().min(1).default(1) })

export const SegmentCellSchema = z.object({
  gt: z.number().int(),
  pred: z.number().int(),
  /** Stored segments (connected components of GT g ∩ prediction p) of this pair. */
  segments: z.number().int(),
  /** Their pixels; smaller than the pixel matrix's cell where extraction dropped fragments below its minimum area. */
  area: z.number().int()
})
export type SegmentCell = z.infer<typeof SegmentCellSchema>

export const PairSegmentSchema = z.object({
  id: Id,
  imageId: Id,
  path: z.string(),
  split: z.string(),
  /** The image's size, so a thumbnail can outline the segment's box. */
  imageWidth: z.number().int(),
  imageHeight: z.number().int(),
  kind: z.enum(['correct', 'misclassified']),
  gtClass: z.number().int(),
  predClass: z.number().int(),
  area: z.number().int(),
  bbox: z.tuple([z.number().int(), z.number().int(), z.number().int(), z.number().int()]),
  /** The model's mean probability of the predicted class inside the segment; null when none was stored. */
  confidence: z.number().nullable()
})
export type PairSegment = z.infer<typeof PairSegmentSchema>

export const viewerMethods = {
  /** The classes of a dataset, or of every dataset in the project, for filters and legends. */
  'images:classes': { input: z.object({ datasetId: Id.optional() }).strict(), output: z.array(ClassDefSchema) },

  'images:list': {
    input: ImageFilterSchema.extend({
      sort: ImageSortSchema.default('id'),
      descending: z.boolean().default(false),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(1000).default(200)
    }).strict(),
    output: z.object({
      /** Images matching the filter; `items` is the requested page of them. */
      total: z.number().int(),
      items: z.array(ImageListItemSchema),
      /** Matching images per split, for the counts beside the filter. */
      bySplit: z.record(z.string(), z.number().int())
    })
  },

  /** Thumbnails as data URLs, a page at a time; made from the image when the import cached none. */
  'images:thumbnails': {
    input: z.object({ ids: z.array(Id).max(500), size: z.number().int().min(16).max(512).default(128) }).strict(),
    output: z.record(z.string(), z.string())
  },

  'images:get': {
    input: z.object({ imageId: Id, modelId: Id.optional() }).strict(),
    output: z.object({
      image: ImageListItemSchema,
      classes: z.array(ClassDefSchema),
      /**
       * The image as a data URL at its full size: the dataset's own PNG, JPEG or WebP file when the browser shows it
       * pixel for pixel as the engine reads it, else a PNG of those pixels.
       */
      png: z.string(),
      /** Ground-truth class per pixel (one byte each), or null without a label. */
      gt: uint8.nullable(),
      /** The chosen model's stored prediction (one byte per pixel), or null. */
      prediction: uint8.nullable(),
      modelId: Id.nullable(),
      segments: z.array(SegmentViewSchema)
    })
  },

  /** Which image a bookmark or note target lies on, so lists can open it in the image view. */
  'images:ofTargets': {
    input: z.object({ targets: z.array(z.object({ kind: z.enum(BOOKMARK_TARGETS), id: Id })).max(1000) }).strict(),
    output: z.array(z.object({ kind: z.enum(BOOKMARK_TARGETS), id: Id, imageId: Id.nullable(), path: z.string().nullable() }))
  },

  'explanations:list': { input: z.object({ imageId: Id }).strict(), output: z.array(ExplanationViewSchema) },

  /**
   * What the optimiser settled on: the image perturbed with the explanation's final mask (perturbation methods)
   * and the model's prediction on it.
   */
  'explanations:perturbed': {
    input: z.object({ explanationId: Id }).strict(),
    output: z.object({ png: z.string(), prediction: uint8, width: z.number().int(), height: z.number().int() })
  },

  /**
   * The confusion matrix counted in segments rather than pixels (the pixel one is 'audit:confusion'): one sparse
   * cell per (ground truth, prediction) pair that has a stored correct or misclassified segment.
   */
  'segments:confusion': {
    input: ErrorScopeSchema.strict(),
    output: z.object({ cells: z.array(SegmentCellSchema) })
  },

  /** The segments behind one confusion cell (GT g predicted as p), a page at a time, largest or most confident first. */
  'segments:byPair': {
    input: ErrorScopeSchema.extend({
      gt: z.number().int().min(0),
      pred: z.number().int().min(0),
      sort: PairSegmentSortSchema.default('area'),
      descending: z.boolean().default(true),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(1000).default(100)
    }).strict(),
    output: z.object({ total: z.number().int(), items: z.array(PairSegmentSchema) })
  }
} as const
