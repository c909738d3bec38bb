import { z } from 'zod'
import { SaliencyMethodSchema, SaliencyParamsSchema, SaliencyPresetNameSchema } from './saliency'
import { SEGMENT_KINDS_EXTRACTED, SegmentOptionsSchema } from './datasets'
import { ClassDefSchema, Id, JobStateSchema, JobSummarySchema } from './types'

/**
 * Dataset audits (paper Sec. 5): predictions over a dataset, batch explanation jobs over its segments, and the
 * context statistics of their results. Shared by the services, the CLI and the UI.
 */

// ---- models -------------------------------------------------------------------------------------------------

export const ModelSummarySchema = z.object({
  id: Id,
  name: z.string(),
  dir: z.string(),
  architecture: z.string(),
  contentHash: z.string(),
  classes: z.array(ClassDefSchema),
  input: z.object({ height: z.number().int(), width: z.number().int(), channels: z.number().int() }),
  /** layers-model, graph-model or onnx; null for a model registered without a stored description. */
  modelFormat: z.string().nullable().default(null),
  createdAt: z.string()
})
export type ModelSummary = z.infer<typeof ModelSummarySchema>

// ---- class mapping ------------------------------------------------------------------------------------------

/**
 * A user's mapping from a model's classes to a dataset's, for class lists that name things differently: each
 * entry names one model class and the dataset class its predictions count as, by name (case-insensitive) or id.
 * Model classes left out are matched by name.
 */
export const ClassMapInputSchema = z
  .array(z.object({ model: z.string().trim().min(1), dataset: z.string().trim().min(1) }).strict())
  .min(1)
export type ClassMapInput = z.infer<typeof ClassMapInputSchema>

const ClassRefSchema = z.object({ id: z.number().int(), name: z.string() })

/**
 * How a model's output classes were matched to a dataset's before scoring: `identical` (same names, same ids),
 * `names` (matched by name: other ids or order, or the model knows only some of the dataset's classes) or
 * `explicit` (the user's class map). Predictions are stored in the dataset's ids.
 */
export const ClassMappingSchema = z.object({
  basis: z.enum(['identical', 'names', 'explicit']),
  /** One per model class, in the model's output-channel order. */
  pairs: z.array(z.object({ model: ClassRefSchema, dataset: ClassRefSchema })),
  /** Dataset classes no model class maps to: the model never predicts them, so their pixels only count as errors. */
  unpredicted: z.array(ClassRefSchema)
})
export type ClassMapping = z.infer<typeof ClassMappingSchema>

// ---- predictions --------------------------------------------------------------------------------------------

export const PredictOptionsSchema = z
  .object({
    datasetId: Id,
    modelId: Id,
    split: z.string().min(1).optional(),
    /** Images per forward pass sent to the engine; batches are spread over the worker threads. */
    batchSize: z.number().int().min(1).max(256).default(8),
    /** Extract segments (predicted components, correct/misclassified regions, GT instances) after predicting. */
    extractSegments: z.boolean().default(true),
    /** Kinds, connectivity and minimum areas of the extracted segments. */
    segmentOptions: SegmentOptionsSchema.optional(),
    /** Needed only when the model's class names are not all among the dataset's (see ClassMapInputSchema). */
    classMap: ClassMapInputSchema.optional()
  })
  .strict()
export type PredictOptions = z.infer<typeof PredictOptionsSchema>

export const ClassIoUSchema = z.object({ classId: z.number().int(), name: z.string(), iou: z.number().nullable(), gtPixels: z.number(), predPixels: z.number() })

export const ConfusionReportSchema = z.object({
  datasetId: Id,
  modelId: Id,
  images: z.number().int(),
  /** Class ids in the order of the matrix's rows (ground truth) and columns (prediction). */
  classIds: z.array(z.number().int()),
  /** Pixel counts, rows = ground truth, columns = prediction; ignored GT pixels left out. */
  matrix: z.array(z.array(z.number())),
  perClass: z.array(ClassIoUSchema),
  meanIoU: z.number().nullable(),
  pixelAccuracy: z.number().nullable(),
  /** How the model's classes were matched to the dataset's; null for predictions stored before mappings were. */
  classMapping: ClassMappingSchema.nullable()
})
export type ConfusionReport = z.infer<typeof ConfusionReportSchema>

export const PredictReportSchema = ConfusionReportSchema.extend({
  predicted: z.number().int(),
  failed: z.array(z.object({ imageId: z.number().int(), code: z.string(), message: z.string() })),
  segments: z.record(z.string(), z.number().int()),
  durationMs: z.number()
})
export type PredictReport = z.infer<typeof PredictReportSchema>

// ---- audit jobs ---------------------------------------------------------------------------------------------

export const SegmentSelectionSchema = z
  .object({
    /**
     * Class of the segment: its ground-truth class for correct/misclassified regions and instances, its predicted
     * class for predicted segments. All classes when omitted.
     */
    classes: z.array(z.number().int().min(0)).optional(),
    kinds: z.array(z.enum(SEGMENT_KINDS_EXTRACTED)).min(1).default(['correct', 'misclassified']),
    /** Pixels of this image; segments were already filtered by the extraction's minimum areas. */
    minArea: z.number().int().min(1).default(1),
    /** At most this many segments, drawn at random (seeded) from all that match. */
    sampleSize: z.number().int().min(1).optional(),
    /**
     * At most this many segments per (GT class, predicted class) pair, drawn at random (seeded) before sampleSize:
     * rare error pairs (a rider taken for a person) keep all their few segments while the common correct ones are
     * thinned, which a single sample over everything would not guarantee.
     */
    samplePerPair: z.number().int().min(1).optional(),
    seed: z.number().int().default(0)
  })
  .strict()
  .prefault({})
export type SegmentSelection = z.infer<typeof SegmentSelectionSchema>

export const AuditOptionsSchema = z
  .object({
    datasetId: Id,
    modelId: Id,
    split: z.string().min(1).optional(),
    method: SaliencyMethodSchema.default('context'),
    preset: SaliencyPresetNameSchema.default('cityscapes'),
    /** Overrides on top of the preset (validated by the saliency schema). */
    params: z.record(z.string(), z.unknown()).default({}),
    segments: SegmentSelectionSchema,
    /** Requests per engine call; spread over the worker threads, so at least the number of workers pays. */
    batchSize: z.number().int().min(1).max(256).default(8),
    /** Must agree with the class map the dataset was predicted with; only needed to state it again. */
    classMap: ClassMapInputSchema.optional(),
    /** Resolve only when the job ends (CLI); otherwise answer with the queued job at once. */
    wait: z.boolean().default(false)
  })
  .strict()
export type AuditOptions = z.infer<typeof AuditOptionsSchema>

/** What a job stores in jobs.params: enough to resume it in another process. */
export const AuditJobParamsSchema = z.object({
  datasetId: Id,
  modelId: Id,
  split: z.string().nullable(),
  modelDir: z.string(),
  saliency: SaliencyParamsSchema,
  preset: SaliencyPresetNameSchema,
  selection: z.object({
    classes: z.array(z.number().int()).nullable(),
    kinds: z.array(z.string()),
    minArea: z.number().int(),
    sampleSize: z.number().int().nullable(),
    // Jobs stored before per-pair sampling existed have no such key.
    samplePerPair: z.number().int().nullable().default(null),
    seed: z.number().int()
  }),
  batchSize: z.number().int(),
  /** How the segments' dataset class ids reach the model's outputs; jobs stored before mappings have none. */
  classMapping: ClassMappingSchema.nullable().optional()
})
export type AuditJobParams = z.infer<typeof AuditJobParamsSchema>

export const JobDetailSchema = JobSummarySchema.extend({
  params: z.record(z.string(), z.unknown()),
  failures: z.array(z.object({ itemKey: z.string(), code: z.string().nullable(), message: z.string() })),
  running: z.boolean()
})
export type JobDetail = z.infer<typeof JobDetailSchema>

// ---- statistics ---------------------------------------------------------------------------------------------

export const StatsOptionsSchema = z
  .object({
    /** The audit job whose explanations are counted; default the most recent audit job. */
    jobId: Id.optional(),
    /** Radius (pixels, Euclidean) of the dilation whose ring around each request is the baseline (Fig. 6). */
    contourRadius: z.number().int().min(1).max(256).default(4),
    /**
     * What counts as context. `outside-object` (default): everything outside the request and outside the rest of
     * the requested object (its GT class connected to the request), whose saliency is reported apart as
     * objectShare; otherwise a rider's own uncovered leg would stand among its context classes. `outside-request`:
     * the paper's C = 1 − R.
     */
    context: z.enum(['outside-object', 'outside-request']).default('outside-object'),
    /**
     * Count explanations whose perturbed image did not give back the model's score (`recovered` false). Off by
     * default: such a mask does not show what the model needs, so statistics rest on recovered explanations only.
     * Gradient methods have no recovery notion; their explanations always count.
     */
    includeUnrecovered: z.boolean().default(false),
    bootstrap: z
      .object({
        samples: z.number().int().min(10).max(100_000).default(1000),
        seed: z.number().int().default(0),
        level: z.number().gt(0).lt(1).default(0.95)
      })
      .prefault({}),
    alerts: z
      .object({
        /** Share − baseline share whose CI lower bound exceeds this raises an alert. */
        shareMargin: z.number().min(0).default(0.05),
        /** Density ratio (class density / mean context density) whose CI lower bound exceeds this raises an alert. */
        densityRatio: z.number().min(1).default(3),
        /**
         * Fewest counted explanations and distinct images behind an alert: one that clears its threshold on less
         * is listed apart as insufficient evidence (a bootstrap over three images says little).
         */
        minExplanations: z.number().int().min(1).default(20),
        minImages: z.number().int().min(1).default(3),
        /** Alerts of a class on other objects of its own class (a car beside cars); off unless asked. */
        sameClass: z.boolean().default(false),
        /** Example explanations listed with each alert. */
        examples: z.number().int().min(0).max(50).default(3)
      })
      .prefault({})
  })
  .strict()
export type StatsOptions = z.infer<typeof StatsOptionsSchema>
export type StatsOptionsInput = z.input<typeof StatsOptionsSchema>

const Interval = z.tuple([z.number(), z.number()])

/**
 * How much a figure rests on: the explanations and distinct images it counts, and the recovery of the group's
 * explanations before unrecovered ones were left out (a reader weighs an alert on 5 of 40 recovered masks apart).
 */
export const EvidenceSchema = z.object({
  explanations: z.number().int(),
  images: z.number().int(),
  /** The group's explanations in the job, counted or not. */
  total: z.number().int(),
  /** Of `total`: whose perturbed image gave back the model's score, and whose did not (gradient methods: neither). */
  recovered: z.number().int(),
  notRecovered: z.number().int(),
  /** recovered / (recovered + notRecovered); null when no explanation has a recovery flag. */
  recoveryRate: z.number().nullable(),
  /**
   * Mean deletion faithfulness (see FaithfulnessSchema) of the counted explanations that have one, and how many
   * have one: explanations stored before the figure existed have none. Absent in hand-made statistics.
   */
  faithfulness: z.object({ mean: z.number().nullable(), n: z.number().int() }).optional()
})
export type Evidence = z.infer<typeof EvidenceSchema>

export const ContextClassStatSchema = z.object({
  classId: z.number().int(),
  name: z.string(),
  /** Fig. 6: this class's part of all context saliency of the requested class, over all images. */
  share: z.number(),
  /** The same over the dilated-contour ring (uniform weights). */
  baselineShare: z.number(),
  /** share / baselineShare; null when the ring never touches the class. */
  lift: z.number().nullable(),
  /** Mean saliency per context pixel of this class; null when the class never occurs in the context. */
  density: z.number().nullable(),
  /** density / mean saliency per context pixel of any class (1 = no more salient than the average context). */
  densityRatio: z.number().nullable(),
  /** Context pixels of this class, summed over explanations. */
  pixels: z.number()
})
export type ContextClassStat = z.infer<typeof ContextClassStatSchema>

export const RequestedClassStatsSchema = z.object({
  /**
   * The audited class of the requests: their ground-truth class (correct and misclassified regions, instances), or
   * the predicted class of predicted segments; not the class explained there, which for a rider taken for a
   * bicycle is bicycle.
   */
  classId: z.number().int(),
  name: z.string(),
  explanations: z.number().int(),
  images: z.number().int(),
  evidence: EvidenceSchema,
  /** Part of the saliency outside the requests that lies on the rest of the requested objects (0 with outside-request). */
  objectShare: z.number(),
  context: z.array(ContextClassStatSchema)
})
export type RequestedClassStats = z.infer<typeof RequestedClassStatsSchema>

export const Table1RowSchema = z.object({
  gtClass: z.number().int(),
  gtName: z.string(),
  predClass: z.number().int(),
  predName: z.string(),
  kind: z.enum(['correct', 'misclassified']),
  explanations: z.number().int(),
  evidence: EvidenceSchema,
  /** Saliency-weighted share of each GT context class, keyed by class id. */
  shares: z.record(z.string(), z.number()),
  densities: z.record(z.string(), z.number().nullable())
})
export type Table1Row = z.infer<typeof Table1RowSchema>

export const ExampleRefSchema = z.object({
  /** Ids are link targets only; a reader is shown the names below. */
  explanationId: z.number().int(),
  segmentId: z.number().int().nullable(),
  imageId: z.number().int(),
  /** The image's file name and split, as the dataset lists it. */
  image: z.object({ name: z.string(), split: z.string().nullable() }),
  /** The request: its audited class, the centre of its bounding box (image pixels), its area. */
  segment: z.object({ className: z.string(), x: z.number().int(), y: z.number().int(), area: z.number().int() }).nullable(),
  /** The example's own share of its context saliency on the alert's context class. */
  share: z.number()
})

export type ExampleRef = z.infer<typeof ExampleRefSchema>

export const BiasAlertSchema = z.object({
  requestedClass: z.number().int(),
  requestedName: z.string(),
  contextClass: z.number().int(),
  contextName: z.string(),
  reason: z.enum(['share', 'density']),
  /** share − baselineShare (reason share) or densityRatio (reason density). */
  value: z.number(),
  ci: Interval,
  threshold: z.number(),
  share: z.number(),
  baselineShare: z.number(),
  densityRatio: z.number().nullable(),
  evidence: EvidenceSchema,
  examples: z.array(ExampleRefSchema)
})
export type BiasAlert = z.infer<typeof BiasAlertSchema>

export const AuditStatsSchema = z.object({
  jobId: Id,
  modelId: Id,
  datasetId: Id,
  method: z.string(),
  explanations: z.number().int(),
  /** The whole audit's: what all figures rest on, with its recovery rate. */
  evidence: EvidenceSchema,
  /**
   * Set while the audit has items left (running, paused, cancelled, failed): its statistics are of `done` of
   * `total` items only and may change; null for a finished audit.
   */
  partial: z.object({ state: JobStateSchema, done: z.number().int(), failed: z.number().int(), total: z.number().int() }).nullable(),
  /** Explanations left out, e.g. because their image's label map could not be read. */
  skipped: z.array(z.object({ explanationId: z.number().int(), reason: z.string() })),
  classes: z.array(ClassDefSchema),
  options: z.object({
    contourRadius: z.number(),
    context: z.enum(['outside-object', 'outside-request']),
    bootstrapSamples: z.number(),
    seed: z.number(),
    level: z.number(),
    includeUnrecovered: z.boolean(),
    minExplanations: z.number().int(),
    minImages: z.number().int()
  }),
  perClass: z.array(RequestedClassStatsSchema),
  table1: z.array(Table1RowSchema),
  alerts: z.array(BiasAlertSchema),
  /** Context classes that clear an alert threshold on fewer explanations or images than the minimum: not alerts. */
  insufficient: z.array(BiasAlertSchema)
})
export type AuditStats = z.infer<typeof AuditStatsSchema>
