import * as tf from '@tensorflow/tfjs'
import type { PerturbationParams } from '@common/saliency'
import { throwIfAborted } from './batch'
import type { SegmentationModel } from './model'
import { type PerturbationProblem, perturbationTerms } from './perturbation'

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
  /** The terms at the final (clamped) masks. */
  final: { loss: number[]; preservation: number[]; maskL1: number[]; score: number[] }
}

/** Lets timers and abort events run between steps; the CPU backend's data() resolves without yielding. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Minimises Eq. 2/3 for every request of the batch at once: one forward/backward of the whole batch per step.
 * The batch loss is the sum of the per-request losses and each mask only enters its own request's loss, so the
 * gradient each mask receives, and every optimiser update (element-wise), is the same as alone.
 *
 * SGD follows PyTorch (dampening 0, no Nesterov): v ← μ·v + g, M ← M − lr·v; the first step therefore uses v = g.
 * After each step M is clamped to [0, 1], the domain of M in the paper.
 */
export async function optimiseMasks(
  model: SegmentationModel,
  problem: PerturbationProblem,
  params: PerturbationParams,
  options: OptimiseOptions = {}
): Promise<OptimiseOutcome> {
  const b = problem.images.shape[0]
  const { maskHeight: h, maskWidth: w, learningRate: lr, momentum, earlyStop } = params
  const adam = params.optimizer === 'adam'
  const { beta1, beta2, epsilon } = params.adam

  let m = tf.fill([b, h, w], params.init) as tf.Tensor3D
  let s1 = tf.zerosLike(m)
  let s2 = tf.zerosLike(m)
  const active = new Array<boolean>(b).fill(true)
  const still = new Array<number>(b).fill(0)
  const lossCurves: number[][] = Array.from({ length: b }, () => [])
  const stepsRun = new Array<number>(b).fill(0)
  const stoppedEarly = new Array<boolean>(b).fill(false)

  let perRequestLoss: tf.Tensor1D | null = null
  const total = (mm: tf.Tensor3D) => {
    const { loss } = perturbationTerms(model, problem, mm)
    // Kept out of the gradient's tidy so the step's per-request losses can be read without a second forward.
    perRequestLoss = tf.keep(loss)
    return tf.sum(loss) as tf.Scalar
  }

  const takeLoss = (): tf.Tensor1D => {
    const t = perRequestLoss
    perRequestLoss = null
    if (!t) throw new Error('the loss function did not run')
    return t
  }

  try {
    for (let step = 1; step <= params.steps && active.some(Boolean); step++) {
      throwIfAborted(options.signal)
      const next = tf.tidy(() => {
        const activeMask = tf.tensor3d(active.map((a) => (a ? 1 : 0)), [b, 1, 1])
        const { grad } = tf.valueAndGrad(total)(m)
        let delta: tf.Tensor3D
        let n1: tf.Tensor3D
        let n2: tf.Tensor3D = s2
        if (adam) {
          n1 = tf.add(tf.mul(beta1, s1), tf.mul(1 - beta1, grad))
          n2 = tf.add(tf.mul(beta2, s2), tf.mul(1 - beta2, tf.square(grad)))
          const mHat = tf.div(n1, 1 - beta1 ** step)
          const vHat = tf.div(n2, 1 - beta2 ** step)
          delta = tf.mul(lr, tf.div(mHat, tf.add(tf.sqrt(vHat), epsilon)))
        } else {
          n1 = tf.add(tf.mul(momentum, s1), grad)
          delta = tf.mul(lr, n1)
        }
        const mNext = tf.clipByValue(tf.sub(m, tf.mul(delta, activeMask)), 0, 1) as tf.Tensor3D
        const change = tf.max(tf.abs(tf.sub(mNext, m)), [1, 2]) as tf.Tensor1D
        return { mNext, n1: n1.clone(), n2: n2.clone(), change }
      })
      // Swap state before awaiting so an exception from here on leaves only tensors the finally block disposes.
      tf.dispose([m, s1, s2])
      m = next.mNext
      s1 = next.n1
      s2 = next.n2
      const lossT = takeLoss()
      let lossValues: Float32Array | Int32Array | Uint8Array
      let changeValues: Float32Array | Int32Array | Uint8Array
      try {
        ;[lossValues, changeValues] = await Promise.all([lossT.data(), next.change.data()])
      } finally {
        tf.dispose([lossT, next.change])
      }
      for (let i = 0; i < b; i++) {
        if (!active[i]) continue
        lossCurves[i].push(lossValues[i])
        stepsRun[i]++
        if (earlyStop.enabled) {
          still[i] = changeValues[i] < earlyStop.tolerance ? still[i] + 1 : 0
          if (still[i] >= earlyStop.patience) {
            active[i] = false
            stoppedEarly[i] = true
          }
        }
      }
      options.onStep?.(step)
      await yieldToEventLoop()
    }
    throwIfAborted(options.signal)

    const finalT = tf.tidy(() => {
      const t = perturbationTerms(model, problem, m)
      return [t.loss, t.preservation, t.maskL1, t.score]
    })
    const [loss, preservation, maskL1, score] = await Promise.all(finalT.map((t) => t.data()))
    tf.dispose(finalT)
    const flat = await m.data()
    const masks = Array.from({ length: b }, (_, i) => Float32Array.from(flat.subarray(i * h * w, (i + 1) * h * w)))
    return {
      masks,
      lossCurves,
      stepsRun,
      stoppedEarly,
      final: {
        loss: Array.from(loss),
        preservation: Array.from(preservation),
        maskL1: Array.from(maskL1),
        score: Array.from(score)
      }
    }
  } finally {
    tf.dispose([m, s1, s2])
    if (perRequestLoss) (perRequestLoss as tf.Tensor).dispose()
  }
}
