import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import { normalisationAffine, type ModelFormat, type ModelSidecar } from '@common/modelSidecar'
import { uniform01 } from '../../prng'

/** A model ready for inference and gradients. `predict` maps [n,h,w,c] input to [n,h,w,classes] probabilities. */
export interface LoadedModel {
  sidecar: ModelSidecar
  format: ModelFormat
  model: tf.LayersModel | tf.GraphModel
  predict(x: tf.Tensor4D): tf.Tensor4D
  dispose(): void
}

export interface VerifyOptions {
  /** Check output shape against input and class list (default true). */
  shape?: boolean
  /** Check the output is a probability map (default true). */
  probabilities?: boolean
  /**
   * Check a gradient reaches the input (default true). Turn off for models whose gradients the current backend
   * cannot compute yet (tfjs refuses gradients of dilated convolutions unless the engine registers them).
   */
  gradient?: boolean
}

/** A fixed pseudo-random image spanning the model's input range: the same probe on every run and backend. */
export function probeInput(sidecar: ModelSidecar): tf.Tensor4D {
  const { height, width, channels } = sidecar.input
  const { min, max } = normalisationAffine(sidecar.normalisation, channels)
  const data = new Float32Array(height * width * channels)
  const u = uniform01(0x9e3779b9)
  for (let i = 0; i < data.length; i++) {
    const c = i % channels
    data[i] = min[c] + (max[c] - min[c]) * u()
  }
  return tf.tensor4d(data, [1, height, width, channels])
}

const PROB_TOLERANCE = 1e-4
const SUM_TOLERANCE = 1e-3

/**
 * Run the model on `probeInput` and check what saliency relies on: the output is [1,h,w,classes] at the input
 * resolution (MODEL_OUTPUT_MISMATCH), a per-pixel probability distribution (MODEL_NOT_PROBABILITIES), and a
 * gradient reaches the input (MODEL_NO_GRADIENT_PATH).
 */
export async function verifyModel(loaded: LoadedModel, options: VerifyOptions = {}): Promise<void> {
  const { shape = true, probabilities = true, gradient = true } = options
  if (!shape && !probabilities && !gradient) return
  const { sidecar } = loaded
  const { height, width } = sidecar.input
  const k = sidecar.classes.length
  const x = probeInput(sidecar)
  try {
    let y: tf.Tensor
    try {
      y = loaded.predict(x)
    } catch (err) {
      throw new AppError('MODEL_FILE_INVALID', `The model failed on a probe input: ${(err as Error).message}`)
    }
    try {
      if (shape && (y.rank !== 4 || y.shape[0] !== 1 || y.shape[1] !== height || y.shape[2] !== width || y.shape[3] !== k)) {
        throw new AppError('MODEL_OUTPUT_MISMATCH', `Output shape ${JSON.stringify(y.shape)} does not match [1, ${height}, ${width}, ${k}] (input size, ${k} classes)`, {
          outputShape: y.shape,
          expected: [1, height, width, k]
        })
      }
      if (probabilities) {
        const [lo, hi, sumErr] = tf.tidy(() => [
          y.min(),
          y.max(),
          y.sum(-1).sub(1).abs().max()
        ])
        const [minV, maxV, maxSumError] = [(await lo.data())[0], (await hi.data())[0], (await sumErr.data())[0]]
        tf.dispose([lo, hi, sumErr])
        const ok = minV >= -PROB_TOLERANCE && maxV <= 1 + PROB_TOLERANCE && maxSumError <= SUM_TOLERANCE
        if (!ok || [minV, maxV, maxSumError].some(Number.isNaN)) {
          throw new AppError(
            'MODEL_NOT_PROBABILITIES',
            `The output is not a probability map (values in [${minV.toPrecision(4)}, ${maxV.toPrecision(4)}], channel sums off by up to ${maxSumError.toPrecision(4)}); end the model with a softmax over classes`,
            { min: minV, max: maxV, maxSumError }
          )
        }
      }
    } finally {
      y.dispose()
    }
    if (gradient) await checkGradientPath(loaded, x)
  } finally {
    x.dispose()
  }
}

async function checkGradientPath(loaded: LoadedModel, x: tf.Tensor4D): Promise<void> {
  let maxAbs: number
  try {
    // valueAndGrad, because tf.grad leaks the value it differentiates.
    const { value, grad } = tf.valueAndGrad((input: tf.Tensor) => {
      const y = loaded.predict(input as tf.Tensor4D)
      // Fixed random weights over pixels and classes: a plain sum of softmax outputs is constant, with no gradient.
      return tf.sum(tf.mul(y, tf.randomUniform(y.shape, 0, 1, 'float32', 1234)))
    })(x)
    const m = tf.tidy(() => grad.abs().max())
    maxAbs = (await m.data())[0]
    tf.dispose([value, grad, m])
  } catch (err) {
    throw new AppError('MODEL_NO_GRADIENT_PATH', `No gradient could be computed from the output to the input: ${(err as Error).message}`, {
      cause: (err as Error).message
    })
  }
  if (!(maxAbs > 0)) {
    throw new AppError('MODEL_NO_GRADIENT_PATH', 'The gradient of the output with respect to the input is zero everywhere: the output does not depend on the image', {
      maxAbsGradient: maxAbs
    })
  }
}
