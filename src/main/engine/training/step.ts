import * as tf from '@tensorflow/tfjs'
import { maskedCrossEntropySum } from './loss'

export interface AdamOptions {
  learningRate?: number
  beta1?: number
  beta2?: number
  epsilon?: number
}

export function makeAdam(o: AdamOptions = {}): tf.AdamOptimizer {
  return tf.train.adam(o.learningRate ?? 1e-3, o.beta1 ?? 0.9, o.beta2 ?? 0.999, o.epsilon ?? 1e-7)
}

export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable)
}

export interface StepGradients {
  /** Gradients by variable name, in `trainableVariables` order; caller disposes. */
  grads: tf.NamedTensorMap
  /** Sum of the per-pixel loss over valid pixels of this batch (not divided). */
  lossSum: number
  /** Predicted class per pixel, [b·h·w]. */
  predicted: Int32Array
}

/**
 * Gradients of Σ CE / `normaliser` over one (share of a) batch, with batch norm in training mode (which also
 * advances its moving statistics, as in model.fit). The normaliser is the valid-pixel count of the whole batch, so
 * shares computed on different workers add up to the gradient of the batch mean.
 */
export function computeGradients(
  model: tf.LayersModel,
  images: Float32Array,
  labels: Int32Array,
  shape: [number, number, number, number],
  ignoreLabel: number,
  normaliser: number
): StepGradients {
  const vars = trainableVariables(model)
  let predicted: tf.Tensor | null = null
  let lossSum: tf.Scalar | null = null
  const { grads, value } = tf.tidy(() => {
    const xs = tf.tensor4d(images, shape)
    const ys = tf.tensor3d(labels, [shape[0], shape[1], shape[2]], 'int32')
    return tf.variableGrads(() => {
      const probs = model.apply(xs, { training: true }) as tf.Tensor4D
      predicted = tf.keep(tf.argMax(probs, -1))
      lossSum = tf.keep(maskedCrossEntropySum(probs, ys, ignoreLabel))
      return tf.div(lossSum, Math.max(normaliser, 1)) as tf.Scalar
    }, vars)
  })
  value.dispose()
  const p = predicted as unknown as tf.Tensor
  const l = lossSum as unknown as tf.Scalar
  const out = { grads, lossSum: l.dataSync()[0], predicted: Int32Array.from(p.dataSync()) }
  p.dispose()
  l.dispose()
  return out
}

/** Flattens gradients to one Float32Array per variable in `vars` order (for averaging across workers). */
export function gradsToArrays(grads: tf.NamedTensorMap, vars: tf.Variable[]): Float32Array[] {
  return vars.map((v) => Float32Array.from(grads[v.name].dataSync()))
}

export function arraysToGrads(arrays: Float32Array[], vars: tf.Variable[]): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = {}
  vars.forEach((v, i) => {
    out[v.name] = tf.tensor(arrays[i], v.shape, 'float32')
  })
  return out
}

export function applyGradients(optimizer: tf.Optimizer, grads: tf.NamedTensorMap): void {
  optimizer.applyGradients(grads)
  for (const g of Object.values(grads)) g.dispose()
}

/** Forward pass in inference mode over `images`, in chunks; returns the loss sum and predicted classes. */
export function evaluateBatch(
  model: tf.LayersModel,
  images: Float32Array,
  labels: Int32Array,
  shape: [number, number, number, number],
  ignoreLabel: number
): { lossSum: number; predicted: Int32Array } {
  return tf.tidy(() => {
    const xs = tf.tensor4d(images, shape)
    const ys = tf.tensor3d(labels, [shape[0], shape[1], shape[2]], 'int32')
    const probs = model.apply(xs, { training: false }) as tf.Tensor4D
    const lossSum = maskedCrossEntropySum(probs, ys, ignoreLabel).dataSync()[0]
    const predicted = Int32Array.from(tf.argMax(probs, -1).dataSync())
    return { lossSum, predicted }
  })
}
