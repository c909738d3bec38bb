import type { PerturbationParams } from '@common/saliency'
import { throwIfAborted, yieldToEventLoop } from '../cancellation'
import { SALIENCY_CANCELLED } from './batch'
import type { SegmentationModel } from './model'
import { type PerturbationProblem, stepArgs } from './perturbation'

export interface OptimiseOptions {
  /** Called after each step with the number of steps done. */
  onStep?: (step: number) => void
  signal?: AbortSignal
}

export interface OptimiseOutcome {
  /** Per request, row-major maskHeight×maskWidth. */
  masks: Float32Array[]
  lossCurves: number[][]
  stepsRun: number[]
  stoppedEarly: boolean[]
  /** S on the image perturbed with the initial mask (before the first step): ≈ 0 means nothing to preserve. */
  startScore: number[]
  /**
   * S with M = 0 everywhere: for context saliency the request kept and all its context replaced by the baseline.
   * Close to S on the original image, the model did not need the context, and an empty mask is the right answer.
   */
  emptyMaskScore: number[]
  /** The terms at the final (clamped) masks. */
  final: { loss: number[]; preservation: number[]; maskL1: number[]; score: number[] }
}

/** Lets timers and abort events run between steps; a runtime's promise may resolve without yielding. */
/**
 * Minimises Eq. 2/3 for every request of the batch at once: one forward/backward of the whole batch per step
 * (the model's perturbationStep); the update of the small masks runs here, in float32 like the masks.
 * The batch loss is the sum of the per-request losses and each mask only enters its own request's loss, so the
 * gradient each mask receives, and every optimiser update (element-wise), is the same as alone.
 *
 * SGD follows PyTorch (dampening 0, no Nesterov): v ← μ·v + g, M ← M − lr·v; the first step therefore uses v = g.
 * After each step M is clamped to [0, 1], the domain of M in the paper. A request that stopped early keeps its
 * mask; its optimiser state still advances, which nothing reads.
 */
export async function optimiseMasks(
  model: SegmentationModel,
  problem: PerturbationProblem,
  params: PerturbationParams,
  options: OptimiseOptions = {}
): Promise<OptimiseOutcome> {
  const b = problem.batch.batch
  const { maskHeight: h, maskWidth: w, learningRate: lr, momentum, earlyStop } = params
  const cells = h * w
  const adam = params.optimizer === 'adam'
  const { beta1, beta2, epsilon } = params.adam
  const f = Math.fround

  const m = new Float32Array(b * cells).fill(params.init)
  const s1 = new Float32Array(b * cells)
  const s2 = new Float32Array(b * cells)
  const active = new Array<boolean>(b).fill(true)
  const still = new Array<number>(b).fill(0)
  const lossCurves: number[][] = Array.from({ length: b }, () => [])
  const stepsRun = new Array<number>(b).fill(0)
  const stoppedEarly = new Array<boolean>(b).fill(false)
  const startScore = new Array<number>(b).fill(Number.NaN)

  for (let step = 1; step <= params.steps && active.some(Boolean); step++) {
    throwIfAborted(options.signal, SALIENCY_CANCELLED)
    const { loss, gradient, score } = await model.perturbationStep(stepArgs(problem, m, true))
    const grad = gradient!
    if (step === 1) for (let i = 0; i < b; i++) startScore[i] = score[i]
    const c1 = f(1 - beta1 ** step)
    const c2 = f(1 - beta2 ** step)
    for (let i = 0; i < b; i++) {
      let change = 0
      for (let j = i * cells; j < (i + 1) * cells; j++) {
        const g = grad[j]
        let delta: number
        if (adam) {
          s1[j] = f(beta1 * s1[j]) + f((1 - beta1) * g)
          s2[j] = f(beta2 * s2[j]) + f((1 - beta2) * f(g * g))
          const mHat = f(s1[j] / c1)
          const vHat = f(s2[j] / c2)
          delta = f(lr * f(mHat / f(Math.sqrt(vHat) + epsilon)))
        } else {
          s1[j] = f(momentum * s1[j]) + g
          delta = f(lr * s1[j])
        }
        if (!active[i]) continue
        const next = Math.min(1, Math.max(0, f(m[j] - delta)))
        change = Math.max(change, Math.abs(f(next - m[j])))
        m[j] = next
      }
      if (!active[i]) continue
      lossCurves[i].push(loss[i])
      stepsRun[i]++
      if (earlyStop.enabled) {
        still[i] = change < earlyStop.tolerance ? still[i] + 1 : 0
        if (still[i] >= earlyStop.patience) {
          active[i] = false
          stoppedEarly[i] = true
        }
      }
    }
    options.onStep?.(step)
    await yieldToEventLoop()
  }
  throwIfAborted(options.signal, SALIENCY_CANCELLED)

  const final = await model.perturbationStep(stepArgs(problem, m, false))
  // One forward pass more per batch (against `steps` forward/backward passes) tells an empty mask that is the
  // answer from one that is a failure of the optimisation.
  const empty = await model.perturbationStep(stepArgs(problem, new Float32Array(b * cells), false))
  return {
    masks: Array.from({ length: b }, (_, i) => m.slice(i * cells, (i + 1) * cells)),
    lossCurves,
    stepsRun,
    stoppedEarly,
    startScore,
    emptyMaskScore: Array.from(empty.score),
    final: {
      loss: Array.from(final.loss),
      preservation: Array.from(final.preservation),
      maskL1: Array.from(final.maskL1),
      score: Array.from(final.score)
    }
  }
}
