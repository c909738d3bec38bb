/**
 * Zero gradients for comparison and logical ops. tfjs registers none, so a gradient through the common pattern
 * tf.where(tf.greater(x, 0), x, ...) fails on every backend ("gradient function not found for Greater") even
 * though the boolean branch contributes nothing. Their outputs are piecewise constant in the inputs, so zero is
 * the exact derivative almost everywhere (TensorFlow marks them NotDifferentiable).
 */
import * as tf from '@tensorflow/tfjs'

const BINARY = [tf.Greater, tf.GreaterEqual, tf.Less, tf.LessEqual, tf.Equal, tf.NotEqual, tf.LogicalAnd, tf.LogicalOr] as const
const UNARY = [tf.LogicalNot, tf.IsNan, tf.IsInf, tf.IsFinite] as const

function zeroGradConfig(kernelName: string, inputNames: string[]): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: inputNames,
    gradFunc: (_dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
      Object.fromEntries(inputNames.map((name, i) => [name, () => tf.zerosLike(saved[i]).toFloat()]))
  }
}

/** Configs for the ops that have no gradient registered yet (a later tfjs may add its own; that one wins). */
export function nonDifferentiableGradConfigs(): tf.GradConfig[] {
  return [...BINARY.map((k) => zeroGradConfig(k, ['a', 'b'])), ...UNARY.map((k) => zeroGradConfig(k, ['x']))].filter(
    (c) => tf.getGradient(c.kernelName) == null
  )
}
