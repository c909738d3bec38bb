import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import { normalisationAffine } from '@common/modelSidecar'
import { compileInputGradientGraph } from './inference/inputGradientGraph'
import type { LoadedModel } from './modelFiles'
import {
  type BatchGeometry,
  interpolationMatrix,
  type OpenedSegmentationModel,
  type PerturbationStepArgs,
  type PerturbationStepResult,
  type ScoreGradientArgs,
  type ScoreGradientResult,
  type SegmentationModel
} from './segmentationModel'

/**
 * The TensorFlow.js implementation of the runtime seam (segmentationModel.ts): the objectives of Eq. 2/3 and of
 * the gradient methods as tf ops, differentiated with tf.grad. Arrays become tensors at the start of each call and
 * results are read back at its end, so no tensor outlives a call.
 */
export interface TfjsModelSpec {
  inputShape: [number | null, number | null, number]
  numClasses: number
  inputRange: [number, number]
  /** NHWC in, NHWC per-pixel class probabilities out; must be differentiable with respect to x. */
  predict(x: tf.Tensor4D): tf.Tensor4D
  dispose?(): void
}

export interface TfjsSegmentationModel extends SegmentationModel {
  readonly runtime: 'tfjs'
  /** The tensor-level forward pass, for tfjs-only callers (tests, kernels); the seam itself is `predict`. */
  predictTensor(x: tf.Tensor4D): tf.Tensor4D
}

/** [B, h, w] → [B, H, W] with `interpolationMatrix` weights; matrix products, so the gradient is exact. */
export function upsampleMasks(m: tf.Tensor3D, outHeight: number, outWidth: number): tf.Tensor3D {
  // Not tf.image.resizeBilinear: its gradient kernels ignore halfPixelCenters, so the mask gradient would belong
  // to a different (off-centre) upsampling than the forward pass.
  return tf.tidy(() => {
    const [b, h, w] = m.shape
    const ah = tf.tensor2d(interpolationMatrix(outHeight, h), [outHeight, h])
    const awT = tf.tensor2d(interpolationMatrix(outWidth, w), [outWidth, w]).transpose()
    // Rows first: [h, B·w] so each product is a plain 2-D matmul whose terms do not depend on the batch size.
    const rows = tf.matMul(ah, m.transpose([1, 0, 2]).reshape([h, b * w])) // [H, B·w]
    const byBatch = rows.reshape([outHeight, b, w]).transpose([1, 0, 2]).reshape([b * outHeight, w])
    return tf.matMul(byBatch, awT).reshape([b, outHeight, outWidth]) as tf.Tensor3D
  })
}

function checkOutput(f: tf.Tensor, x: tf.Tensor4D, numClasses: number): void {
  if (f.rank !== 4 || f.shape[0] !== x.shape[0] || f.shape[1] !== x.shape[1] || f.shape[2] !== x.shape[2] || f.shape[3] !== numClasses) {
    throw new AppError(
      'MODEL_OUTPUT_MISMATCH',
      `model output ${f.shape.slice(1).join('×')} does not match input ${x.shape[1]}×${x.shape[2]} with ${numClasses} classes`
    )
  }
}

export function tfjsSegmentationModel(spec: TfjsModelSpec): TfjsSegmentationModel {
  const { numClasses: k } = spec
  const probs = (x: tf.Tensor4D): tf.Tensor4D => {
    const f = spec.predict(x)
    checkOutput(f, x, k)
    return f
  }
  /** f_c per request, [B, H, W]. */
  const classProb = (x: tf.Tensor4D, oneHot: tf.Tensor4D) => tf.sum(tf.mul(probs(x), oneHot), 3) as tf.Tensor3D
  const oneHotOf = (a: { batch: number; classOneHot: Float32Array }) => tf.tensor4d(a.classOneHot, [a.batch, 1, 1, k])
  const read = async (ts: tf.Tensor[]): Promise<Float32Array[]> => {
    try {
      return (await Promise.all(ts.map((t) => t.data()))) as Float32Array[]
    } finally {
      tf.dispose(ts)
    }
  }

  async function predict(images: Float32Array, g: BatchGeometry): Promise<Float32Array> {
    const y = tf.tidy(() => probs(tf.tensor4d(images, [g.batch, g.height, g.width, g.channels])))
    return (await read([y]))[0]
  }

  async function perturbationStep(a: PerturbationStepArgs): Promise<PerturbationStepResult> {
    const { batch: b, height, width, channels: c } = a
    let kept: tf.Tensor[] = []
    const grad = tf.tidy((): tf.Tensor[] => {
      const images = tf.tensor4d(a.images, [b, height, width, c])
      const start = tf.tensor4d(a.start, [b, height, width, c])
      const r = tf.tensor3d(a.requestMasks, [b, height, width])
      const oneHot = oneHotOf(a)
      const original = tf.tensor3d(a.originalProb, [b, height, width])
      const area = tf.sum(r, [1, 2])
      const terms = (mask: tf.Tensor) => {
        const m = mask as tf.Tensor3D
        const up = upsampleMasks(m, height, width).expandDims(3) as tf.Tensor4D
        // Written as in the paper, not as start + (x − start)∘M, so M = 1 returns x and M = 0 returns start exactly.
        let x = tf.add(tf.mul(images, up), tf.mul(start, tf.sub(1, up))) as tf.Tensor4D
        if (a.clip) x = tf.clipByValue(x, a.clip[0], a.clip[1]) as tf.Tensor4D
        const fc = classProb(x, oneHot)
        const preservation = tf.div(tf.sum(tf.mul(r, tf.relu(tf.sub(original, fc))), [1, 2]), area)
        const maskL1 = tf.sum(m, [1, 2])
        const loss = tf.add(tf.mul(a.lambda, maskL1), preservation)
        const score = tf.div(tf.sum(tf.mul(r, fc), [1, 2]), area)
        // Kept out of the gradient's own scope so the step's terms come back without a second forward pass.
        kept = [loss, preservation, maskL1, score].map((t) => tf.keep(t))
        return tf.sum(loss) as tf.Scalar
      }
      const m = tf.tensor3d(a.masks, [b, a.maskHeight, a.maskWidth])
      if (!a.withGradient) {
        terms(m)
        return []
      }
      return [tf.grad(terms)(m)]
    })
    const [loss, preservation, maskL1, score, gradient] = await read([...kept, ...grad])
    return gradient ? { loss, preservation, maskL1, score, gradient } : { loss, preservation, maskL1, score }
  }

  async function scoreGradient(a: ScoreGradientArgs): Promise<ScoreGradientResult> {
    let kept: tf.Tensor | null = null
    const gradient = tf.tidy(() => {
      const r = tf.tensor3d(a.requestMasks, [a.batch, a.height, a.width])
      const oneHot = oneHotOf(a)
      const area = tf.sum(r, [1, 2])
      const total = (x: tf.Tensor) => {
        kept = tf.keep(tf.div(tf.sum(tf.mul(r, classProb(x as tf.Tensor4D, oneHot)), [1, 2]), area))
        return tf.sum(kept) as tf.Scalar
      }
      return tf.grad(total)(tf.tensor4d(a.images, [a.batch, a.height, a.width, a.channels]))
    })
    const [score, g] = await read([kept!, gradient])
    return { score, gradient: g }
  }

  return {
    runtime: 'tfjs',
    inputShape: spec.inputShape,
    numClasses: k,
    inputRange: spec.inputRange,
    predictTensor: (x) => spec.predict(x),
    predict,
    perturbationStep,
    scoreGradient,
    dispose: () => spec.dispose?.()
  }
}

/**
 * Wraps a tf.LayersModel. `apply` with training=false, not `predict`: predict runs in its own tidy and batches
 * internally, which breaks gradient recording, and batch norm must use its moving statistics so a request's
 * result does not depend on the other requests in its batch. Disposing the wrapper leaves the model alone.
 */
export function fromLayersModel(model: tf.LayersModel, options: { inputRange?: [number, number] } = {}): TfjsSegmentationModel {
  const inShape = model.inputs[0].shape
  const outShape = model.outputs[0].shape
  if (inShape.length !== 4 || outShape.length !== 4) {
    throw new AppError('MODEL_OUTPUT_MISMATCH', `expected NHWC input and output, got input ${JSON.stringify(inShape)} and output ${JSON.stringify(outShape)}`)
  }
  const channels = inShape[3]
  const numClasses = outShape[3]
  if (channels == null || numClasses == null) {
    throw new AppError('MODEL_OUTPUT_MISMATCH', 'the model must declare its input channels and number of classes')
  }
  return tfjsSegmentationModel({
    inputShape: [inShape[1], inShape[2], channels],
    numClasses,
    inputRange: options.inputRange ?? [0, 1],
    predict: (x) => model.apply(x, { training: false }) as tf.Tensor4D
  })
}

/**
 * A verified model folder on tfjs. Layers models run through the input-gradient graph (batch norms folded, no
 * filter gradients), which computes the same function faster; graph models run as they are. Disposing it
 * disposes the loaded model too.
 */
export function fromLoadedModel(loaded: LoadedModel): TfjsSegmentationModel & OpenedSegmentationModel {
  const { input, normalisation, classes } = loaded.sidecar
  const { min, max } = normalisationAffine(normalisation, input.channels)
  const graph = loaded.format === 'layers-model' ? compileInputGradientGraph(loaded.model as tf.LayersModel) : null
  const model = tfjsSegmentationModel({
    inputShape: [input.height, input.width, input.channels],
    numClasses: classes.length,
    inputRange: [Math.min(...min), Math.max(...max)],
    predict: graph ? (x) => graph.predict(x) : (x) => loaded.predict(x),
    dispose: () => {
      graph?.dispose()
      loaded.dispose()
    }
  })
  return { ...model, classIds: classes.map((c) => c.id) }
}
