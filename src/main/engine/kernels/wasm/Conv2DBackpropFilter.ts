/**
 * Conv2DBackpropFilter for wasm, which has no such kernel (training and the gradient of fused convolutions need
 * it). The filter gradient is itself a forward convolution: x with batch and channels swapped, "filtered" by dy,
 * the stride acting as dilation. XNNPACK runs it at about the speed of the forward pass.
 */
import * as tf from '@tensorflow/tfjs'
import { conv2dBackpropFilterImpl } from '../impl/conv_backprop'
import { toNHWC, withTensors } from '../impl/kernel_util'

export function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap }): tf.Tensor {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs
  return withTensors(args.inputs, ['x', 'dy'], (x, dy) =>
    tf.tidy(() =>
      dataFormat === 'NCHW'
        ? conv2dBackpropFilterImpl(toNHWC(x), toNHWC(dy), filterShape, strides, pad, 1, dimRoundingMode)
        : conv2dBackpropFilterImpl(x, dy, filterShape, strides, pad, 1, dimRoundingMode)
    )
  )
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc
}
