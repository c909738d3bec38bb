import * as tf from '@tensorflow/tfjs'

/** Probabilities are clipped before the log so a confident wrong pixel gives a large but finite loss. */
export const PROB_EPSILON = 1e-7

/**
 * Sum over non-ignored pixels of −log p(label) for softmax probabilities [b, h, w, k] and int32 labels [b, h, w].
 * Ignored pixels are multiplied out, so they add neither loss nor gradient; divide by the number of valid pixels
 * (of the whole batch, across workers) to get the mean.
 */
export function maskedCrossEntropySum(probs: tf.Tensor4D, labels: tf.Tensor3D, ignoreLabel: number): tf.Scalar {
  return tf.tidy(() => {
    const k = probs.shape[3]
    const valid = tf.notEqual(labels, tf.scalar(ignoreLabel, 'int32'))
    const safe = tf.where(valid, labels, tf.zerosLike(labels))
    const onehot = tf.oneHot(tf.reshape(safe, [-1]), k).reshape(probs.shape)
    const picked = tf.sum(tf.mul(probs, onehot), -1)
    const nll = tf.neg(tf.log(tf.clipByValue(picked, PROB_EPSILON, 1)))
    return tf.sum(tf.mul(nll, tf.cast(valid, 'float32'))) as tf.Scalar
  })
}
