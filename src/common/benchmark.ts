import { z } from 'zod'
import { BaselineSchema } from './saliency'
import { TEXTURE_COUNT, TILE_LAYOUTS } from './textureMnist'

/**
 * The context-bias benchmark (paper Sec. 4, Fig. 4): configurations, presets and results, shared by the runner
 * (main), the contract, the CLI and the Benchmark screen.
 */

export const BENCHMARK_PRESETS = ['quick', 'quick-d0-t1', 'paper-small', 'sweep'] as const
export const BenchmarkPresetSchema = z.enum(BENCHMARK_PRESETS)
export type BenchmarkPreset = z.infer<typeof BenchmarkPresetSchema>

/** The methods compared in Fig. 4. 'context' is grid saliency in its context form (Eq. 3), the paper's method. */
export const BENCHMARK_METHODS = ['context', 'vg', 'ig', 'sg'] as const
export const BenchmarkMethodSchema = z.enum(BENCHMARK_METHODS)
export type BenchmarkMethod = z.infer<typeof BenchmarkMethodSchema>
export const BENCHMARK_METHOD_LABELS: Record<BenchmarkMethod, string> = {
  context: 'Grid saliency (context)',
  vg: 'VG',
  ig: 'IG',
  sg: 'SG'
}

/** Where a model comes from: a committed one whose recorded training config matches, or trained by the run. */
export const MODEL_SOURCES = ['committed', 'train', 'committed-or-train'] as const
export type ModelSource = (typeof MODEL_SOURCES)[number]

const digit = z.number().int().min(0).max(9)
const texture = z.number().int().min(0).max(TEXTURE_COUNT - 1)
const uint32 = z.number().int().min(0).max(0xffffffff)
const distinct = <T extends z.ZodTypeAny>(item: T, what: string) =>
  z
    .array(item)
    .min(1, `needs at least one ${what}`)
    .refine((a) => new Set(a).size === a.length, `lists a ${what} twice`)

/** One block of experiments: every (biased digit, texture, seed) of the lists is one trained model. */
export const BenchmarkExperimentSchema = z
  .object({
    bias: z.enum(['weak', 'strong']),
    biasedDigits: distinct(digit, 'biased digit'),
    textures: distinct(texture, 'texture'),
    seeds: distinct(uint32, 'seed')
  })
  .strict()
export type BenchmarkExperiment = z.infer<typeof BenchmarkExperimentSchema>

export const BenchmarkConfigSchema = z
  .object({
    /** Names the run folder (with the config hash): letters, digits, '.', '_', '-'. */
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "use 1–64 letters, digits, '.', '_' or '-'").default('custom'),
    experiments: z.array(BenchmarkExperimentSchema).default([]),
    /** Row N: a model trained without bias for every seed of the experiments (seed 0 when there are none). */
    unbiased: z.boolean().default(true),
    data: z
      .object({
        /** Training images per model. */
        trainCount: z.number().int().min(16).max(60_000).default(5000),
        /** Held-out images of the training distribution, for the per-epoch validation of trained models. */
        valCount: z.number().int().min(1).max(10_000).default(500),
        layout: z.enum(TILE_LAYOUTS).default('halves'),
        /** Seed of every test split, so all models are evaluated and explained on the same images. */
        testSeed: uint32.default(1000),
        /** Unbiased test images for the IoU matrix (Fig. 4a). */
        evalCount: z.number().int().min(10).max(10_000).default(1000),
        /** Biased test images explained per digit and model (Fig. 4b/c). */
        explainPerDigit: z.number().int().min(1).max(1000).default(10),
        /**
         * Images of the biased digit explained per model, when more than explainPerDigit: the diagonal of Fig. 4
         * (the biased digit's mCBD and mCBL) rests on these images alone, so they set its noise.
         */
        explainBiasedDigit: z.number().int().min(1).max(1000).nullable().default(null),
        /** Images whose predicted digit segment is smaller than this are skipped (and counted). */
        minRequestArea: z.number().int().min(1).default(16)
      })
      .strict()
      .prefault({}),
    model: z
      .object({
        width: z.number().positive().max(4).default(0.5),
        /** Poolings of the U-Net encoder: with fewer than 4 the digit does not fit the receptive field (issue 5). */
        levels: z.number().int().min(1).max(6).default(4)
      })
      .strict()
      .prefault({}),
    training: z
      .object({
        source: z.enum(MODEL_SOURCES).default('committed-or-train'),
        epochs: z.number().int().min(1).max(200).default(12),
        batchSize: z.number().int().min(1).max(512).default(16),
        learningRate: z.number().positive().max(1).default(0.001),
        /**
         * Biased models start from the unbiased model of their seed (row N, trained as above) and train this much
         * on their biased training set, instead of from scratch: a sweep of many biases costs one full training
         * per seed plus a short one per bias. Requires `unbiased`.
         */
        fineTune: z
          .object({
            trainCount: z.number().int().min(16).max(60_000),
            epochs: z.number().int().min(1).max(200),
            learningRate: z.number().positive().max(1)
          })
          .strict()
          .optional()
      })
      .strict()
      .prefault({}),
    saliency: z
      .object({
        methods: distinct(BenchmarkMethodSchema, 'method').default([...BENCHMARK_METHODS]),
        /**
         * The request R. 'predicted': the pixels the network predicts as the digit inside the ground-truth digit
         * (as the audits' requests are GT ∩ prediction). 'predicted-all': every pixel predicted as the digit,
         * which lets a biased model's spill of the digit class into the bias tile into R, where context saliency
         * keeps it unperturbed and so cannot show it. 'ground-truth': R_GT, which tells apart "the method misses
         * the bias" from "the network mis-segments the digit".
         */
        request: z.enum(['predicted', 'predicted-all', 'ground-truth']).default('predicted'),
        /** Grid saliency: the paper's synthetic settings (Sec. 4.2) unless changed. */
        context: z
          .object({
            steps: z.number().int().min(1).max(10_000).default(100),
            maskHeight: z.number().int().min(1).max(64).default(4),
            maskWidth: z.number().int().min(1).max(64).default(4),
            lambda: z.number().min(0).default(0.05),
            learningRate: z.number().positive().default(0.2),
            /** The mask's starting value: the paper starts at 0.5. */
            init: z.number().min(0).max(1).default(0.5),
            /**
             * The paper's "constant color image", whose colour it does not give. Mid-grey, the middle of the
             * textures' [0, 1] range: with black, the start M = 0.5 already halves the bias texture's contrast
             * towards black, a sharply biased model no longer reads it (S ≈ 0, no gradient) and half the masks
             * collapse to 0 (BENCHMARKS.md, baseline comparison).
             */
            baseline: BaselineSchema.prefault({ kind: 'constant', value: 0.5 })
          })
          .strict()
          .prefault({}),
        /** VG/IG/SG maps are mean-filtered to this grid, as the paper does for a fair comparison. */
        gradientHeight: z.number().int().min(1).max(64).default(4),
        gradientWidth: z.number().int().min(1).max(64).default(4),
        igSteps: z.number().int().min(1).max(10_000).default(50),
        sgSamples: z.number().int().min(1).max(10_000).default(50),
        sgSigma: z.number().min(0).default(0.15),
        maxBatch: z.number().int().min(1).max(256).default(16)
      })
      .strict()
      .prefault({}),
    /**
     * The sanity check of Adebayo et al. (2018) beside the benchmark: each method's masks for a fixed sample of
     * requests, again after re-initialising the model's layers top-down, compared with the trained model's.
     * Not part of the run's config hash: turning it on or off keeps every other unit of the run folder.
     */
    sanityCheck: z
      .object({
        enabled: z.boolean().default(true),
        /** Requests of the sample, evenly spaced over the requests the checked model explains. */
        requests: z.number().int().min(1).max(1000).default(6),
        /**
         * The cascade, in order: 'top' re-initialises the output layer alone; a fraction f the top round(f·L) of the
         * model's L weighted layers (a convolution together with its batch norm counts as one), at least one.
         */
        stages: z
          .array(z.union([z.literal('top'), z.number().gt(0).max(1)]))
          .min(1)
          .default(['top', 0.5, 1]),
        /** Seed of the re-initialised weights. */
        seed: uint32.default(0)
      })
      .strict()
      .prefault({})
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.experiments.length === 0 && !c.unbiased) {
      ctx.addIssue({ code: 'custom', path: ['experiments'], message: 'nothing to run: no experiments and unbiased is false' })
    }
    if (c.training.fineTune && !c.unbiased) {
      ctx.addIssue({ code: 'custom', path: ['training', 'fineTune'], message: 'fine-tuning starts from the unbiased models: set unbiased to true' })
    }
  })
export type BenchmarkConfig = z.infer<typeof BenchmarkConfigSchema>
export type BenchmarkConfigInput = z.input<typeof BenchmarkConfigSchema>

export const BiasMatrixCellSchema = z.object({
  mean: z.number().nullable(),
  std: z.number().nullable(),
  models: z.number().int(),
  images: z.number().int(),
  undefinedImages: z.number().int()
})
export const BiasMatrixSchema = z.object({
  rowLabels: z.array(z.string()),
  columnLabels: z.array(z.string()),
  values: z.array(z.array(z.number().nullable())),
  cells: z.array(z.array(BiasMatrixCellSchema))
})
export type BiasMatrixData = z.infer<typeof BiasMatrixSchema>

export const BenchmarkModelInfoSchema = z.object({
  key: z.string(),
  /** 'N', the biased digit, or digit and strength ("2 weak") when the run has both strengths. */
  row: z.string(),
  bias: z.enum(['none', 'weak', 'strong']),
  biasedDigit: z.number().int().nullable(),
  texture: z.number().int().nullable(),
  seed: z.number().int(),
  source: z.enum(['committed', 'trained']),
  dir: z.string(),
  params: z.number().int().nullable(),
  /** Best validation mIoU on held-out images of its training distribution. */
  valMiou: z.number().nullable(),
  /** mIoU (digits and background) on the unbiased test set. */
  testMiou: z.number().nullable(),
  /** IoU per digit 0–9 on the unbiased test set. */
  digitIou: z.array(z.number().nullable())
})
export type BenchmarkModelInfo = z.infer<typeof BenchmarkModelInfoSchema>

export const BenchmarkSummaryRowSchema = z.object({
  method: BenchmarkMethodSchema,
  label: z.string(),
  /** 'N', the biased digit, or digit and strength ("2 weak") when the run has both strengths. */
  row: z.string(),
  biasedDigit: z.number().int().nullable(),
  /** The diagonal: mCBD of the biased digit on its own model (for N: mean over the experiments' biased digits). */
  mcbdBiased: z.number().nullable(),
  /** Mean mCBD over the other digits of the same row. */
  mcbdOthers: z.number().nullable(),
  mcblBiased: z.number().nullable(),
  paper: z.string()
})
export type BenchmarkSummaryRow = z.infer<typeof BenchmarkSummaryRowSchema>

/**
 * Mean Spearman correlation (over the context cells) above which, after the deepest stage of the cascade, a
 * method's masks are taken not to depend on the model. Adebayo et al. (2018) read a rank correlation that stays
 * high under randomisation as a failed check; 0.5 leaves room for the shared structure that any map of the same
 * image and request keeps (the request's surroundings, the image's edges) without passing a method whose maps a
 * random network reproduces in rank more often than not.
 */
export const SANITY_SPEARMAN_THRESHOLD = 0.5

export const SummaryStatSchema = z.object({ mean: z.number().nullable(), std: z.number().nullable(), n: z.number().int() })
export type SummaryStat = z.infer<typeof SummaryStatSchema>

export const SanityStageSchema = z.object({
  /** 'top layer', 'top 50%', 'all layers'. */
  label: z.string(),
  /** How many of the model's weighted layers (from the output down) are re-initialised, and their names. */
  layers: z.number().int(),
  layerNames: z.array(z.string())
})
export type SanityStage = z.infer<typeof SanityStageSchema>

export const SanityMethodSchema = z.object({
  method: BenchmarkMethodSchema,
  label: z.string(),
  /** One entry per stage, in cascade order. */
  stages: z.array(
    z.object({
      label: z.string(),
      /** Spearman rank correlation of |mask| over the context cells; a collapsed mask counts as 0. */
      spearman: SummaryStatSchema,
      /** Pearson correlation of |mask| over the context cells; a collapsed mask counts as 0. */
      pearson: SummaryStatSchema,
      /** Masks of the randomised model that are constant over the context cells (e.g. an empty grid saliency mask). */
      collapsed: z.number().int()
    })
  ),
  /** Requests left out because the trained model's own mask is constant over the context: nothing to compare. */
  excluded: z.number().int(),
  /** By the mean Spearman after the deepest stage against the threshold. */
  verdict: z.enum(['passes', 'fails', 'not assessed']),
  /** 95% confidence interval (Student t) of that mean; null below n = 2. */
  ci95: z.tuple([z.number(), z.number()]).nullable(),
  /** The interval holds the threshold: at this n the sample cannot tell passing from failing. */
  borderline: z.boolean(),
  seconds: z.number()
})
export type SanityMethod = z.infer<typeof SanityMethodSchema>

export const SanityCheckSchema = z.object({
  /** The model checked (its Fig. 4 row and name) and the test set its sample comes from. */
  model: z.object({ row: z.string(), name: z.string(), dir: z.string() }),
  testSet: z.string(),
  /** The sample: test-split index and digit of each image. */
  requests: z.array(z.object({ index: z.number().int(), digit: z.number().int() })),
  totalLayers: z.number().int(),
  stages: z.array(SanityStageSchema),
  seed: z.number().int(),
  threshold: z.number(),
  methods: z.array(SanityMethodSchema),
  files: z.object({ json: z.string(), markdown: z.string(), figures: z.array(z.string()) })
})
export type SanityCheck = z.infer<typeof SanityCheckSchema>

/**
 * A model has learned its planted bias when the biased digit's IoU on unbiased test images is at least this much
 * below the unbiased model of the same seed (issue 18): the digit is no longer found without its texture.
 */
export const BIAS_LEARNED_IOU_DROP = 0.15
/** Grid saliency detects a learned bias when the biased digit's mCBD tops its row and its mCBL reaches this. */
export const DETECTION_MIN_MCBL = 0.8
/**
 * A mask whose mean saliency over the context is below this is empty (collapsed): it says "no context needed",
 * and its CBL is undefined. One of ~14 context cells of a 4×4 mask at 0.015 is already above it.
 */
export const EMPTY_MASK_CBD = 1e-3
/**
 * A request depends on its context when S with all of its context replaced by the baseline (M = 0) falls below
 * this share of S on the original image. On the others an empty context mask is the correct answer, so they dilute
 * mCBD without saying anything about the method (issue 18's diagnosis of strong-d0-t1-s0).
 */
export const CONTEXT_DEPENDENT_SCORE = 0.9

export const VERDICTS = ['learned-detected', 'learned-missed', 'not-learned', 'undetermined'] as const
export type Verdict = (typeof VERDICTS)[number]
export const VERDICT_LABELS: Record<Verdict, string> = {
  'learned-detected': 'bias learned and detected',
  'learned-missed': 'learned, missed',
  'not-learned': 'not learned',
  undetermined: 'undetermined'
}

/** How many models got each verdict (zeros included), for the summary line and the Benchmark screen. */
export function verdictCounts(verdicts: readonly Pick<ModelVerdict, 'verdict'>[]): Record<Verdict, number> {
  const out = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>
  for (const v of verdicts) out[v.verdict]++
  return out
}

/** One method's reading of one biased model: its per-digit row of mCBD, the diagonal's mCBL, empty masks. */
export const ModelMethodReadingSchema = z.object({
  method: BenchmarkMethodSchema,
  /** mCBD per digit 0–9 on this model's biased test set (null: no request of that digit). */
  mcbd: z.array(z.number().nullable()),
  /** Requests explained per digit. */
  requests: z.array(z.number().int()),
  /** Share of empty masks per digit (mean context saliency < EMPTY_MASK_CBD); null: no request. */
  emptyShare: z.array(z.number().nullable()),
  mcblBiased: z.number().nullable(),
  /**
   * Of the biased digit's empty masks, how many started from S ≈ 0 (S at the initial mask below 10 % of S on the
   * original image): the perturbation at the start already removed what the model needed. Null when the method
   * records no start score (gradient methods, results cached before it was recorded).
   */
  emptyStartedLow: z.number().int().nullable().default(null),
  /** Images of the biased digit whose CBL is defined (the mask is not empty): what mCBL rests on. */
  mcblImages: z.number().int(),
  /**
   * Requests per digit whose score depends on their context (S at M = 0 below CONTEXT_DEPENDENT_SCORE × S); null
   * when the method records no such score (gradient methods, results cached before it was recorded).
   */
  contextDependent: z.array(z.number().int().nullable()).default([]),
  /**
   * Per digit, empty masks on context-dependent requests: the model needed context there and the mask shows none,
   * the only empty masks that are failures of the method. Null as for contextDependent.
   */
  collapsed: z.array(z.number().int().nullable()).default([]),
  /** mCBD per digit over the context-dependent requests only, and the biased digit's mCBL over them. */
  mcbdDependent: z.array(z.number().nullable()).default([]),
  mcblDependent: z.number().nullable().default(null),
  mcblDependentImages: z.number().int().default(0),
  /** The highest mCBD among the other digits, and which digit it is. */
  mcbdOthersMax: z.number().nullable(),
  mcbdOthersMaxDigit: z.number().int().nullable(),
  /** mCBD of the biased digit is the highest of its row, and mCBL ≥ DETECTION_MIN_MCBL. */
  detects: z.boolean()
})
export type ModelMethodReading = z.infer<typeof ModelMethodReadingSchema>

/** Per biased model, the facts that decide whether a bias was learned and whether grid saliency found it. */
export const ModelVerdictSchema = z.object({
  key: z.string(),
  /** modelName: strong-d6-t14-s1. */
  name: z.string(),
  row: z.string(),
  bias: z.enum(['weak', 'strong']),
  biasedDigit: z.number().int(),
  texture: z.number().int(),
  seed: z.number().int(),
  /** The biased digit's IoU on the unbiased test set: under the unbiased model of the same seed, and this one. */
  iouUnbiasedModel: z.number().nullable(),
  iouBiasedModel: z.number().nullable(),
  iouDrop: z.number().nullable(),
  learned: z.enum(['yes', 'no', 'undetermined']),
  methods: z.array(ModelMethodReadingSchema),
  verdict: z.enum(VERDICTS),
  /** Why, in words, citing the numbers. */
  reason: z.string()
})
export type ModelVerdict = z.infer<typeof ModelVerdictSchema>

export const BenchmarkResultSchema = z.object({
  name: z.string(),
  preset: BenchmarkPresetSchema.nullable(),
  configHash: z.string(),
  runDir: z.string(),
  config: z.unknown(),
  startedAt: z.string(),
  finishedAt: z.string(),
  wallSeconds: z.number(),
  /** Units (trainings, evaluations, explanations) read from the cache vs computed in this run. */
  units: z.object({ cached: z.number().int(), computed: z.number().int() }),
  models: z.array(BenchmarkModelInfoSchema),
  iou: BiasMatrixSchema,
  methods: z.array(z.object({ method: BenchmarkMethodSchema, label: z.string(), cbd: BiasMatrixSchema, cbl: BiasMatrixSchema, seconds: z.number() })),
  summary: z.array(BenchmarkSummaryRowSchema),
  explained: z.object({ requests: z.number().int(), skipped: z.number().int() }),
  /** Cascading randomisation (Adebayo et al. 2018); null when skipped. */
  sanity: SanityCheckSchema.nullable(),
  /** One per biased model (issue 18); empty when the run has no unbiased model to compare with. */
  verdicts: z.array(ModelVerdictSchema).default([]),
  files: z.object({
    json: z.string(),
    csv: z.string(),
    summary: z.string(),
    /** The per-model verdicts as markdown and CSV (issue 18). */
    verdicts: z.string().optional(),
    verdictsCsv: z.string().optional(),
    figures: z.array(z.string())
  })
})
export type BenchmarkResult = z.infer<typeof BenchmarkResultSchema>

export const BenchmarkPresetInfoSchema = z.object({
  name: BenchmarkPresetSchema,
  description: z.string(),
  models: z.number().int(),
  config: z.unknown()
})
export type BenchmarkPresetInfo = z.infer<typeof BenchmarkPresetInfoSchema>

/**
 * What a benchmark job runs, stored with it: the config as parsed (a resume reruns exactly this, whatever the file
 * says by then) and where its run folder is, so its result can be found after the app was closed.
 */
export const BenchmarkJobParamsSchema = z.object({
  preset: BenchmarkPresetSchema.nullable(),
  /** The config's name (the preset's, or the file's `name`). */
  name: z.string(),
  configFile: z.string().nullable(),
  outRoot: z.string(),
  runDir: z.string(),
  config: z.unknown()
})
export type BenchmarkJobParams = z.infer<typeof BenchmarkJobParamsSchema>
