import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import type { TaskHandler } from '../handler'
import type { ModelRef } from '../modelCache'
import { checkImages } from './predict'

export interface InputGradientPayload {
  model: ModelRef
  /** [n, h, w, c] images. */
  images: Float32Array
  shape: [number, number, number, number]
  /** [n, oh, ow] request masks R over the model output (0..1). */
  masks: Float32Array
  /** Requested class c per image. */
  classIds: number[]
  batchSize?: number
}

export interface InputGradientResult {
  /** ∂S/∂x, [n, h, w, c]. */
  gradients: Float32Array
  /** Request score S(x, R, c) = ‖R∘f_c(x)‖₁ / ‖R‖₁ per image. */
  scores: Float32Array
}

declare module '../protocol' {
  interface TaskMap {
    inputGradient: { payload: InputGradientPayload; result: InputGradientResult; progress: { done: number; total: number } }
  }
}

/**
 * Gradient of the request score with respect to the input image (vanilla gradient, the building block of VG, IG
 * and SmoothGrad). Images in a chunk are independent in inference mode, so the gradient of the summed scores
 * gives every image its own gradient in one backward pass.
 */
export const inputGradient: TaskHandler<InputGradientPayload, InputGradientResult> = async (p, ctx) => {
  checkImages(p.images, p.shape)
  const [n, h, w, c] = p.shape
  if (p.classIds.length !== n) throw new AppError('INVALID_PAYLOAD', `${p.classIds.length} class ids for ${n} images`)
  if (n > 0 && p.masks.length % n !== 0) throw new AppError('REQUEST_SIZE_MISMATCH', `${p.masks.length} mask values for ${n} images`)
  const model = await ctx.loadModel(p.model)
  const perMask = n > 0 ? p.masks.length / n : 0
  const maskSums = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let j = i * perMask; j < (i + 1) * perMask; j++) s += p.masks[j]
    if (!(s > 0)) throw new AppError('EMPTY_REQUEST_MASK', `The request mask of image ${i} is empty`, { index: i })
    maskSums[i] = s
  }
  const per = h * w * c
  const bs = Math.max(1, p.batchSize ?? 8)
  const gradients = new Float32Array(n * per)
  const scores = new Float32Array(n)
  for (let s = 0; s < n; s += bs) {
    await ctx.checkpoint()
    const e = Math.min(n, s + bs)
    let g: ArrayLike<number> = []
    let sc: ArrayLike<number> = []
    tf.tidy(() => {
      const x = tf.tensor4d(p.images.subarray(s * per, e * per), [e - s, h, w, c])
      const classes = tf.tensor1d(p.classIds.slice(s, e), 'int32')
      const sums = tf.tensor1d(maskSums.subarray(s, e))
      let perImage: tf.Tensor1D | null = null
      const scoreFn = (input: tf.Tensor): tf.Scalar => {
        const probs = model.apply(input, { training: false }) as tf.Tensor4D
        const [b, oh, ow, k] = probs.shape
        if (oh * ow !== perMask) throw new AppError('REQUEST_SIZE_MISMATCH', `Masks have ${perMask} values, the output has ${oh}×${ow}`)
        const select = tf.oneHot(classes, k).reshape([b, 1, 1, k])
        const fc = tf.sum(tf.mul(probs, select), -1)
        const m = tf.tensor3d(p.masks.subarray(s * perMask, e * perMask), [b, oh, ow])
        const scoresOfChunk = tf.div(tf.sum(tf.mul(fc, m), [1, 2]), sums) as tf.Tensor1D
        // Kept past the gradient's own scope so the scores come back without a second forward pass.
        perImage = tf.keep(scoresOfChunk)
        return tf.sum(scoresOfChunk) as tf.Scalar
      }
      const grad = tf.grad(scoreFn)(x)
      const kept = perImage as unknown as tf.Tensor1D
      g = grad.dataSync()
      sc = kept.dataSync()
      kept.dispose()
    })
    gradients.set(g, s * per)
    scores.set(sc, s)
    ctx.progress({ done: e, total: n })
  }
  return { gradients, scores }
}
