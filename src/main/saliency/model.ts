import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'

/**
 * What saliency needs from a segmentation network, independent of how it was built or which backend runs it.
 * Output spatial size equals input spatial size (the paper's assumption); request masks are over that grid.
 */
export interface SegmentationModel {
  /** [height, width, channels]; height/width null for fully convolutional models that accept any size. */
  inputShape: [number | null, number | null, number]
  numClasses: number
  /** Pixel value range the model was trained on; perturbed images are clipped to it. */
  inputRange: [number, number]
  /** NHWC in, NHWC per-pixel class probabilities out; must be differentiable with respect to x. */
  predict(x: tf.Tensor4D): tf.Tensor4D
}

/**
 * Wraps a tf.LayersModel. `apply` with training=false, not `predict`: predict runs in its own tidy and batches
 * internally, which breaks gradient recording, and batch norm must use its moving statistics so a request's
 * result does not depend on the other requests in its batch.
 */
export function fromLayersModel(model: tf.LayersModel, options: { inputRange?: [number, number] } = {}): SegmentationModel {
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
  return {
    inputShape: [inShape[1], inShape[2], channels],
    numClasses,
    inputRange: options.inputRange ?? [0, 1],
    predict: (x) => model.apply(x, { training: false }) as tf.Tensor4D
  }
}
