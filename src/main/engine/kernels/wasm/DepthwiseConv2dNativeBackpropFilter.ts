/**
 * DepthwiseConv2dNativeBackpropFilter for wasm, which has no such kernel: one forward depthwise convolution over a
 * single "image" whose channels are (batch, channel) pairs, each filtered by its own dy plane, then a sum over the
 * batch.
 */
import * as tf from '@tensorflow/tfjs'
import { depthwiseConv2dBackpropFilterImpl } from '../impl/conv_backprop'
import { withTensors } from '../impl/kernel_util'

export function depthwiseConv2dNativeBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap }): tf.Tensor {
  const { strides, dilations, pad, dimRoundingMode, filterShape } = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs
  return withTensors(args.inputs, ['x', 'dy'], (x, dy) =>
    depthwiseConv2dBackpropFilterImpl(x, dy, filterShape, strides, pad, dilations ?? 1, dimRoundingMode)
  )
}

export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as tf.KernelFunc
}
