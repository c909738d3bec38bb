import type { PerturbationParams } from '@common/saliency'
import { baselineImages } from './baseline'
import { type BatchArrays, classProbabilities } from './batch'
import type { PerturbationStepArgs, SegmentationModel } from './model'

/**
 * Everything in Eq. 2/3 that does not depend on M, computed once per batch.
 * `start` is what a cell with M = 0 shows: the baseline a (grid, Eq. 2) or p(x,R), the image with its context
 * removed (context, Eq. 3); both cases are then p = x∘M + start∘(1−M).
 */
export interface PerturbationProblem {
  batch: BatchArrays
  /** [B, H, W, C] */
  start: Float32Array
  /** f_c(x) on the unperturbed images, [B, H, W]. */
  originalProb: Float32Array
  maskHeight: number
  maskWidth: number
  lambda: number
  clip: [number, number] | null
}

export async function preparePerturbation(model: SegmentationModel, batch: BatchArrays, params: PerturbationParams): Promise<PerturbationProblem> {
  const { images, requestMasks, channels: c } = batch
  const start = baselineImages(images, batch, params.baseline, model.inputRange)
  if (params.method === 'context') {
    // Pixels inside R keep the image, the rest show the baseline: x∘R + a∘(1−R) with R ∈ {0, 1}.
    for (let i = 0; i < start.length; i++) if (requestMasks[Math.floor(i / c)] !== 0) start[i] = images[i]
  }
  return {
    batch,
    start,
    originalProb: await classProbabilities(model, images, batch),
    maskHeight: params.maskHeight,
    maskWidth: params.maskWidth,
    lambda: params.lambda,
    clip: params.clip ? model.inputRange : null
  }
}

/** The model's arguments for one step (or the final evaluation) at masks m, [B, h, w]. */
export function stepArgs(p: PerturbationProblem, masks: Float32Array, withGradient: boolean): PerturbationStepArgs {
  const { batch, height, width, channels, images, requestMasks, classOneHot } = p.batch
  return {
    batch,
    height,
    width,
    channels,
    maskHeight: p.maskHeight,
    maskWidth: p.maskWidth,
    masks,
    images,
    start: p.start,
    requestMasks,
    classOneHot,
    originalProb: p.originalProb,
    lambda: p.lambda,
    clip: p.clip,
    withGradient
  }
}
