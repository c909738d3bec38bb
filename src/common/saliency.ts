import { z } from 'zod'

/**
 * Saliency parameters and results: the schemas are the source of truth so the contract, the job runner and the
 * engine parse the same objects with the same defaults. Defaults are the paper's synthetic-benchmark settings
 * (Sec. 4.2); `SALIENCY_PRESETS.cityscapes` holds its Cityscapes settings (Sec. 5).
 */

export const SALIENCY_METHODS = ['grid', 'context', 'vg', 'ig', 'sg'] as const
export const SaliencyMethodSchema = z.enum(SALIENCY_METHODS)
export type SaliencyMethod = z.infer<typeof SaliencyMethodSchema>

export const PERTURBATION_METHODS = ['grid', 'context'] as const
export type PerturbationMethod = (typeof PERTURBATION_METHODS)[number]
export const GRADIENT_METHODS = ['vg', 'ig', 'sg'] as const
export type GradientMethod = (typeof GRADIENT_METHODS)[number]

export function isPerturbationMethod(m: SaliencyMethod): m is PerturbationMethod {
  return m === 'grid' || m === 'context'
}

/**
 * The uninformative image `a` that replaces removed pixels. A constant is in input units (one value, or one per
 * channel for a colour); blur is a Gaussian blur of the image itself (σ in pixels); noise is uniform over the
 * model's input range, reproducible from its seed.
 */
export const BaselineSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant'), value: z.union([z.number(), z.array(z.number()).min(1)]).default(0) }),
  z.object({ kind: z.literal('blur'), sigma: z.number().positive().max(256).default(5) }),
  z.object({ kind: z.literal('noise'), seed: z.number().int().default(0) })
])
export type Baseline = z.infer<typeof BaselineSchema>
export type BaselineInput = z.input<typeof BaselineSchema>

/**
 * Bilinear with half-pixel centres (PyTorch's align_corners=False): low-resolution cells sit centred on the
 * image. Fixed rather than configurable so saliency and metrics cannot disagree; recorded so stored results say
 * which convention produced them.
 */
export const UpsampleSchema = z
  .object({
    mode: z.literal('bilinear').default('bilinear'),
    halfPixelCenters: z.literal(true).default(true)
  })
  .prefault({})

const dim = z.number().int().min(1).max(4096)

const perturbationFields = {
  maskHeight: dim.default(4),
  maskWidth: dim.default(4),
  init: z.number().min(0).max(1).default(0.5),
  optimizer: z.enum(['sgd', 'adam']).default('sgd'),
  learningRate: z.number().positive().default(0.2),
  /** PyTorch SGD semantics: v = μ·v + g; M ← M − lr·v. Ignored by Adam. */
  momentum: z.number().min(0).max(0.999).default(0.5),
  adam: z
    .object({
      beta1: z.number().min(0).max(0.9999).default(0.9),
      beta2: z.number().min(0).max(0.999999).default(0.999),
      epsilon: z.number().positive().default(1e-8)
    })
    .prefault({}),
  steps: z.number().int().min(1).max(100_000).default(100),
  lambda: z.number().min(0).default(0.05),
  baseline: BaselineSchema.prefault({ kind: 'constant' }),
  /** Clip the perturbed image to the model's input range. */
  clip: z.boolean().default(true),
  upsample: UpsampleSchema,
  /** Stop a request once no mask cell moved more than `tolerance` for `patience` consecutive steps. */
  earlyStop: z
    .object({
      enabled: z.boolean().default(false),
      tolerance: z.number().positive().default(1e-4),
      patience: z.number().int().min(1).default(5)
    })
    .prefault({}),
  /** The original confidence counts as recovered when the final preservation term is at most this. */
  recoveryTolerance: z.number().min(0).default(0.01)
}

const gradientFields = {
  /** 'context' zeroes the map inside R (Eq. 5); 'grid' keeps it. */
  form: z.enum(['grid', 'context']).default('context'),
  /** Resolution the map is mean-filtered to (kernel = stride = image size / this); equal to the image: no filter. */
  saliencyHeight: dim.default(4),
  saliencyWidth: dim.default(4),
  upsample: UpsampleSchema
}

export const GridParamsSchema = z.object({ method: z.literal('grid'), ...perturbationFields })
export const ContextParamsSchema = z.object({ method: z.literal('context'), ...perturbationFields })
export const VgParamsSchema = z.object({ method: z.literal('vg'), ...gradientFields })
export const IgParamsSchema = z.object({
  method: z.literal('ig'),
  ...gradientFields,
  steps: z.number().int().min(1).max(10_000).default(50),
  /** The path start; the paper's Eq. 4 integrates from 0 (k/n·x). */
  baseline: BaselineSchema.prefault({ kind: 'constant' }),
  /**
   * Eq. 4 averages the gradients without multiplying by (x − baseline), unlike the original IG; true gives the
   * original attribution.
   */
  multiplyByInput: z.boolean().default(false)
})
export const SgParamsSchema = z.object({
  method: z.literal('sg'),
  ...gradientFields,
  samples: z.number().int().min(1).max(10_000).default(50),
  /** Standard deviation of the added Gaussian noise, in input units. */
  sigma: z.number().min(0).default(0.15),
  seed: z.number().int().default(0)
})

export const SaliencyParamsSchema = z.discriminatedUnion('method', [
  GridParamsSchema,
  ContextParamsSchema,
  VgParamsSchema,
  IgParamsSchema,
  SgParamsSchema
])
export type SaliencyParams = z.infer<typeof SaliencyParamsSchema>
export type SaliencyParamsInput = z.input<typeof SaliencyParamsSchema>
export type PerturbationParams = z.infer<typeof GridParamsSchema> | z.infer<typeof ContextParamsSchema>
export type GradientParams = z.infer<typeof VgParamsSchema> | z.infer<typeof IgParamsSchema> | z.infer<typeof SgParamsSchema>

export const SALIENCY_PRESET_NAMES = ['synthetic', 'cityscapes'] as const
export const SaliencyPresetNameSchema = z.enum(SALIENCY_PRESET_NAMES)
export type SaliencyPresetName = z.infer<typeof SaliencyPresetNameSchema>

/** The paper's settings; a preset only overrides what differs from the schema defaults (= 'synthetic'). */
export const SALIENCY_PRESETS: Record<
  SaliencyPresetName,
  { perturbation: Partial<Record<keyof typeof perturbationFields, unknown>>; gradient: { saliencyHeight: number; saliencyWidth: number } }
> = {
  synthetic: { perturbation: {}, gradient: { saliencyHeight: 4, saliencyWidth: 4 } },
  cityscapes: {
    perturbation: { maskHeight: 16, maskWidth: 32, learningRate: 1, steps: 80, lambda: 0.01 },
    gradient: { saliencyHeight: 16, saliencyWidth: 32 }
  }
}

/** Full parameters for a method from a preset plus overrides; throws a ZodError on invalid input. */
export function saliencyParams(
  method: SaliencyMethod,
  preset: SaliencyPresetName = 'synthetic',
  overrides: Record<string, unknown> = {}
): SaliencyParams {
  const p = SALIENCY_PRESETS[preset]
  const base = isPerturbationMethod(method) ? p.perturbation : p.gradient
  return SaliencyParamsSchema.parse({ ...base, ...overrides, method })
}

/**
 * The deletion check of an explanation (src/main/saliency/faithfulness.ts): the map's context cells are replaced by
 * `baseline` in `steps` equal parts, most salient first, and the same for `randomOrders` seeded random orders. The
 * baseline is the perturbation methods' one, so every method is measured by removing context the same way.
 */
export const FaithfulnessParamsSchema = z.object({
  steps: z.number().int().min(1).max(64).default(8),
  randomOrders: z.number().int().min(1).max(32).default(3),
  seed: z.number().int().default(0),
  baseline: BaselineSchema.prefault({ kind: 'constant' })
})
export type FaithfulnessParams = z.infer<typeof FaithfulnessParamsSchema>
export type FaithfulnessParamsInput = z.input<typeof FaithfulnessParamsSchema>

/**
 * Deletion faithfulness of one explanation. `value` = (AUC_random − AUC_salient) / AUC_random, the areas under the
 * deletion curves (score / original score against the removed part of the context): 0 when removing the most
 * salient context first hurts the score no faster than removing it in random order, > 0 when faster (at most 1),
 * < 0 when slower. Null when the request has no context cells or the original score is (near) zero.
 */
export const FaithfulnessSchema = z.object({
  value: z.number().nullable(),
  aucSalient: z.number().nullable(),
  aucRandom: z.number().nullable(),
  /** AUC of each random order: how much the random level itself varies. */
  randomAucs: z.array(z.number()),
  /** Removed part of the context cells at each point, from 0 to 1. */
  fractions: z.array(z.number()),
  /** Mean requested-class score over R at each point: salient order, and the mean of the random orders. */
  salient: z.array(z.number()),
  random: z.array(z.number()),
  /** Cells of the map with pixels outside R (the ones removed); R's own pixels are never changed. */
  contextCells: z.number().int(),
  /** Images run through the model (one batched predict unless the images are large). */
  images: z.number().int(),
  timeMs: z.number(),
  params: FaithfulnessParamsSchema
})
export type Faithfulness = z.infer<typeof FaithfulnessSchema>

/**
 * Faithfulness settings for an explanation made with `params` under `preset`: grid and context saliency remove
 * context with their own baseline; VG/IG/SG with the preset's perturbation baseline, so all methods share one.
 */
export function faithfulnessParams(params: SaliencyParams, preset: SaliencyPresetName = 'synthetic'): FaithfulnessParams {
  const baseline = isPerturbationMethod(params.method) ? (params as PerturbationParams).baseline : (saliencyParams('grid', preset) as PerturbationParams).baseline
  return FaithfulnessParamsSchema.parse({ baseline })
}

const float32 = z.custom<Float32Array>((v) => v instanceof Float32Array, 'expected a Float32Array')

export const SaliencyResultSchema = z.object({
  /** The caller's request id, echoed back. */
  id: z.string().optional(),
  method: SaliencyMethodSchema,
  classId: z.number().int().min(0),
  imageHeight: z.number().int().positive(),
  imageWidth: z.number().int().positive(),
  maskHeight: z.number().int().positive(),
  maskWidth: z.number().int().positive(),
  /** Row-major, maskHeight×maskWidth: the optimised mask, or the mean-filtered gradient map. */
  mask: float32,
  /**
   * Row-major, imageHeight×imageWidth, upsampled as `params.upsample` says; only when the caller asked for it
   * (`upsample: true`): most callers store or measure the mask itself, and an image-sized copy is 4 bytes a pixel
   * across the worker boundary. `upsampledMap` (@common/saliencyMap) gives it either way.
   */
  upsampled: float32.optional(),
  /** S(x,R,c) = ‖R∘f_c(x)‖₁/‖R‖₁ on the unperturbed image. */
  scoreOriginal: z.number(),
  /** Perturbation methods: S on the image perturbed with the final mask; null otherwise. */
  scorePerturbed: z.number().nullable(),
  /**
   * Perturbation methods: S on the image perturbed with the initial mask, before the first step. Near 0, the
   * preservation term has nothing to hold on to and the sparsity term empties the mask (issue 18). Absent in
   * results stored before it was recorded.
   */
  scoreStart: z.number().nullable().optional(),
  /**
   * Perturbation methods: S with M = 0 everywhere, i.e. (context saliency) the request kept and all of its context
   * replaced by the baseline. Near scoreOriginal, the model did not need the context for this request and an empty
   * mask is the correct answer, not a collapse (issue 18). Absent in results stored before it was recorded.
   */
  scoreEmptyMask: z.number().nullable().optional(),
  /** Final ‖R∘max(f_c(x) − f_c(p), 0)‖₁/‖R‖₁; null for gradient methods. */
  preservation: z.number().nullable(),
  /** Final ‖M‖₁ (sum over low-resolution cells) and λ·‖M‖₁; null for gradient methods. */
  maskL1: z.number().nullable(),
  maskTerm: z.number().nullable(),
  /** preservation ≤ params.recoveryTolerance; null for gradient methods. */
  recovered: z.boolean().nullable(),
  /** Total loss before each optimisation step (empty for gradient methods). */
  lossCurve: z.array(z.number()),
  stepsRun: z.number().int().min(0),
  stoppedEarly: z.boolean(),
  /** Wall time of the batch divided by its size; `batchTimeMs` is the whole batch. */
  timeMs: z.number(),
  batchTimeMs: z.number(),
  batchSize: z.number().int().positive(),
  params: SaliencyParamsSchema,
  /** The deletion check, when it was asked for (see FaithfulnessSchema). */
  faithfulness: FaithfulnessSchema.optional()
})
export type SaliencyResult = z.infer<typeof SaliencyResultSchema>
