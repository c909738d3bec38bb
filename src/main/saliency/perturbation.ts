import * as tf from '@tensorflow/tfjs'
import type { PerturbationParams } from '@common/saliency'
import { baselineImages } from './baseline'
import { type BatchTensors, classProbabilities, requestScore } from './batch'
import type { SegmentationModel } from './model'
import { upsampleMasks } from './upsample'

/**
 * Everything in Eq. 2/3 that does not depend on M, computed once per batch.
 * `start` is what a cell with M = 0 shows: the baseline a (grid, Eq. 2) or p(x,R), the image with its context
 * removed (context, Eq. 3); both cases are then p = x∘M + start∘(1−M).
 */
export interface PerturbationProblem {
  images: tf.Tensor4D
  start: tf.Tensor4D
  requestMasks: tf.Tensor4D
  classOneHot: tf.Tensor4D
  /** f_c(x) on the unperturbed images, [B, H, W]. */
  originalProb: tf.Tensor3D
  /** ‖R‖₁ per request, [B]. */
  requestArea: tf.Tensor1D
  lambda: number
  clip: [number, number] | null
}

/** The returned problem borrows the batch's tensors; dispose it (before the batch) with disposeProblem. */
export function preparePerturbation(model: SegmentationModel, batch: BatchTensors, params: PerturbationParams): PerturbationProblem {
  const r = batch.requestMasks
  const [start, originalProb, requestArea] = tf.tidy(() => {
    const a = baselineImages(batch.images, params.baseline, model.inputRange)
    const s = params.method === 'context' ? (tf.add(tf.mul(batch.images, r), tf.mul(a, tf.sub(1, r))) as tf.Tensor4D) : a
    return [s, classProbabilities(model, batch.images, batch.classOneHot), tf.sum(r, [1, 2, 3]) as tf.Tensor1D] as [tf.Tensor4D, tf.Tensor3D, tf.Tensor1D]
  })
  return {
    images: batch.images,
    start,
    requestMasks: r,
    classOneHot: batch.classOneHot,
    originalProb,
    requestArea,
    lambda: params.lambda,
    clip: params.clip ? model.inputRange : null
  }
}

export function disposeProblem(p: PerturbationProblem): void {
  tf.dispose([p.start, p.originalProb, p.requestArea])
}

/** p(x, M) for low-resolution masks m [B, h, w], clipped to the input range when asked. */
export function perturb(p: PerturbationProblem, m: tf.Tensor3D): tf.Tensor4D {
  const [, height, width] = p.images.shape
  const up = upsampleMasks(m, height, width).expandDims(3) as tf.Tensor4D
  // Written as in the paper, not as start + (x − start)∘M, so M = 1 returns x and M = 0 returns start exactly.
  const x = tf.add(tf.mul(p.images, up), tf.mul(p.start, tf.sub(1, up))) as tf.Tensor4D
  return p.clip ? (tf.clipByValue(x, p.clip[0], p.clip[1]) as tf.Tensor4D) : x
}

export interface PerturbationTerms {
  /** λ‖M‖₁ + preservation, [B]; their sum over the batch is what the optimiser differentiates. */
  loss: tf.Tensor1D
  preservation: tf.Tensor1D
  maskL1: tf.Tensor1D
  /** S(p(x,M), R, c), [B]. */
  score: tf.Tensor1D
}

/**
 * Eq. 2/3 per request. ‖M‖₁ is the plain sum over low-resolution cells (M ≥ 0), not a mean: with a mean the
 * mask term is 1/(h·w) as strong and unneeded cells barely move in the paper's 100 steps.
 */
export function perturbationTerms(model: SegmentationModel, p: PerturbationProblem, m: tf.Tensor3D): PerturbationTerms {
  const fc = classProbabilities(model, perturb(p, m), p.classOneHot)
  const r = p.requestMasks.squeeze([3])
  const shortfall = tf.relu(tf.sub(p.originalProb, fc))
  const preservation = tf.div(tf.sum(tf.mul(r, shortfall), [1, 2]), p.requestArea) as tf.Tensor1D
  const maskL1 = tf.sum(m, [1, 2]) as tf.Tensor1D
  const loss = tf.add(tf.mul(p.lambda, maskL1), preservation) as tf.Tensor1D
  return { loss, preservation, maskL1, score: requestScore(fc, p.requestMasks) }
}
