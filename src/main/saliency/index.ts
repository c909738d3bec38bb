/**
 * Saliency for semantic segmentation (grid saliency, Hoyer et al.): perturbation grid and context saliency
 * (Eq. 1–3) and the gradient baselines VG, IG and SG (Eq. 4–5), for batches of requests (image, R, c).
 * Parameters and results are the schemas of @common/saliency; the model is any SegmentationModel (the engine's
 * runtime seam): this folder is plain TypeScript on arrays and never loads a tensor runtime itself.
 */
import { AppError } from '@common/errors'
import {
  type FaithfulnessParamsInput,
  type GradientParams,
  isPerturbationMethod,
  type PerturbationParams,
  type SaliencyMethod,
  type SaliencyParams,
  type SaliencyParamsInput,
  SaliencyParamsSchema,
  saliencyParams,
  type SaliencyPresetName,
  type SaliencyResult
} from '@common/saliency'
import { type BatchArrays, batchArrays, planBatches, requestScores, SALIENCY_CANCELLED, type SaliencyRequest, validateRequest } from './batch'
import { throwIfAborted } from '../cancellation'
import { deletionFaithfulness } from './faithfulness'
import { gradientSaliency, meanFilterKernel } from './gradientMethods'
import type { SegmentationModel } from './model'
import { type OptimiseOutcome, optimiseMasks } from './optimise'
import { preparePerturbation } from './perturbation'
import { upsampleBilinear } from './upsample'

export type { SaliencyImage, SaliencyRequest } from './batch'
export type { SegmentationModel } from './model'
export { interpolationMatrix, upsampleBilinear } from './upsample'
export { deletionFaithfulness, type SaliencyMap } from './faithfulness'

export interface SaliencyOptions {
  /** Called after every optimisation step (or gradient sample) with the steps done and the total over all batches. */
  onProgress?: (step: number, steps: number) => void
  /** Aborting throws AppError('CANCELLED') at the next step. */
  signal?: AbortSignal
  /** Most requests per forward/backward pass; default 16. */
  maxBatch?: number
  /**
   * Called with each batch's results (and their request indices) as soon as that batch is done, before the next
   * one runs: a job stores them at once instead of when every batch is through.
   */
  onResults?: (indices: number[], results: SaliencyResult[]) => void
  /** Also run the deletion check on every result (one batched predict per request; see faithfulness.ts). */
  faithfulness?: FaithfulnessParamsInput
  /** Add each map upsampled to its image (`upsampled`); without it results carry the low-resolution mask only. */
  upsample?: boolean
}

/** Parses (and defaults) parameters, mapping schema failures to INVALID_PARAMETERS. */
export function parseSaliencyParams(input: SaliencyParamsInput | SaliencyParams): SaliencyParams {
  const parsed = SaliencyParamsSchema.safeParse(input)
  if (!parsed.success) {
    throw new AppError('INVALID_PARAMETERS', `invalid saliency parameters: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
      issues: parsed.error.issues
    })
  }
  return parsed.data
}

/**
 * A preset's values for the method, then the caller's overrides (the explain command, the image screen and audits
 * all take both); the schema validates the mix, so a bad override is INVALID_PARAMETERS, not a ZodError.
 */
export function presetSaliencyParams(method: SaliencyMethod, preset: SaliencyPresetName | undefined, overrides: Record<string, unknown> = {}): SaliencyParams {
  return parseSaliencyParams({ ...saliencyParams(method, preset), ...overrides, method } as SaliencyParamsInput)
}

/** Mask or saliency resolutions the image cannot carry fail before any work, like bad requests. */
function checkSizes(p: SaliencyParams, height: number, width: number): void {
  if (isPerturbationMethod(p.method)) {
    const { maskHeight, maskWidth } = p as PerturbationParams
    if (maskHeight > height || maskWidth > width) {
      throw new AppError('INVALID_PARAMETERS', `mask ${maskHeight}×${maskWidth} is finer than the image ${height}×${width}`)
    }
  } else {
    const g = p as GradientParams
    meanFilterKernel(height, width, g.saliencyHeight, g.saliencyWidth)
  }
}

function stepsPerBatch(p: SaliencyParams): number {
  switch (p.method) {
    case 'grid':
    case 'context':
      return p.steps
    case 'vg':
      return 1
    case 'ig':
      return p.steps
    case 'sg':
      return p.samples
  }
}

/**
 * Saliency for many requests with one parameter set. Requests on images of the same size are optimised together,
 * up to `maxBatch` at a time; results come back in request order and do not depend on how they were batched.
 * Every request is validated before any work starts.
 */
export async function computeSaliency(
  model: SegmentationModel,
  requests: SaliencyRequest[],
  paramsInput: SaliencyParamsInput | SaliencyParams,
  options: SaliencyOptions = {}
): Promise<SaliencyResult[]> {
  const params = parseSaliencyParams(paramsInput)
  requests.forEach((r, i) => {
    validateRequest(model, r, i)
    checkSizes(params, r.image.height, r.image.width)
  })
  const maxBatch = options.maxBatch ?? 16
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new AppError('INVALID_PARAMETERS', `maxBatch must be a positive integer, got ${maxBatch}`)
  throwIfAborted(options.signal, SALIENCY_CANCELLED)

  const batches = planBatches(requests, maxBatch)
  const per = stepsPerBatch(params)
  const totalSteps = per * batches.length
  const results = new Array<SaliencyResult>(requests.length)
  let reported = 0
  const report = (step: number) => {
    reported = step
    options.onProgress?.(step, totalSteps)
  }
  for (const [bi, indices] of batches.entries()) {
    const batchResults = await runBatch(
      model,
      indices.map((i) => requests[i]),
      params,
      { onStep: (step) => report(bi * per + step), signal: options.signal, upsample: options.upsample === true }
    )
    if (options.faithfulness) {
      for (const [k, ri] of indices.entries()) {
        const r = batchResults[k]
        const map = { values: r.mask, height: r.maskHeight, width: r.maskWidth }
        r.faithfulness = await deletionFaithfulness(model, requests[ri], map, options.faithfulness, { signal: options.signal })
      }
    }
    indices.forEach((ri, k) => (results[ri] = batchResults[k]))
    options.onResults?.(indices, batchResults)
    // A batch whose requests all stopped early skips its remaining steps; progress still reaches its end.
    if (reported < (bi + 1) * per) report((bi + 1) * per)
  }
  return results
}

async function runBatch(
  model: SegmentationModel,
  requests: SaliencyRequest[],
  params: SaliencyParams,
  options: { onStep: (step: number) => void; signal?: AbortSignal; upsample: boolean }
): Promise<SaliencyResult[]> {
  const t0 = performance.now()
  const batch = batchArrays(model, requests)
  const { height, width } = batch
  const upsampled = (map: Float32Array, h: number, w: number) => (options.upsample ? { upsampled: upsampleBilinear(map, h, w, height, width) } : {})
  if (isPerturbationMethod(params.method)) {
    const p = params as PerturbationParams
    const { outcome, scoreOriginal } = await runPerturbation(model, batch, p, options)
    const batchTimeMs = performance.now() - t0
    return requests.map((r, i) => ({
      ...(r.id !== undefined ? { id: r.id } : {}),
      method: p.method,
      classId: r.classId,
      imageHeight: height,
      imageWidth: width,
      maskHeight: p.maskHeight,
      maskWidth: p.maskWidth,
      mask: outcome.masks[i],
      ...upsampled(outcome.masks[i], p.maskHeight, p.maskWidth),
      scoreOriginal: scoreOriginal[i],
      scorePerturbed: outcome.final.score[i],
      scoreStart: Number.isNaN(outcome.startScore[i]) ? null : outcome.startScore[i],
      scoreEmptyMask: outcome.emptyMaskScore[i],
      preservation: outcome.final.preservation[i],
      maskL1: outcome.final.maskL1[i],
      maskTerm: p.lambda * outcome.final.maskL1[i],
      recovered: outcome.final.preservation[i] <= p.recoveryTolerance,
      lossCurve: outcome.lossCurves[i],
      stepsRun: outcome.stepsRun[i],
      stoppedEarly: outcome.stoppedEarly[i],
      timeMs: batchTimeMs / requests.length,
      batchTimeMs,
      batchSize: requests.length,
      params: p
    }))
  }
  const g = params as GradientParams
  const outcome = await gradientSaliency(model, batch, g, options)
  const batchTimeMs = performance.now() - t0
  return requests.map((r, i) => ({
    ...(r.id !== undefined ? { id: r.id } : {}),
    method: g.method,
    classId: r.classId,
    imageHeight: height,
    imageWidth: width,
    maskHeight: g.saliencyHeight,
    maskWidth: g.saliencyWidth,
    mask: outcome.maps[i],
    ...upsampled(outcome.maps[i], g.saliencyHeight, g.saliencyWidth),
    scoreOriginal: outcome.score[i],
    scorePerturbed: null,
    preservation: null,
    maskL1: null,
    maskTerm: null,
    recovered: null,
    lossCurve: [],
    stepsRun: stepsPerBatch(g),
    stoppedEarly: false,
    timeMs: batchTimeMs / requests.length,
    batchTimeMs,
    batchSize: requests.length,
    params: g
  }))
}

async function runPerturbation(
  model: SegmentationModel,
  batch: BatchArrays,
  params: PerturbationParams,
  options: { onStep: (step: number) => void; signal?: AbortSignal }
): Promise<{ outcome: OptimiseOutcome; scoreOriginal: number[] }> {
  const problem = await preparePerturbation(model, batch, params)
  const outcome = await optimiseMasks(model, problem, params, options)
  return { outcome, scoreOriginal: requestScores(problem.originalProb, batch) }
}
