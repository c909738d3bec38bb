/**
 * DepthwiseConv2dNativeBackpropInput for wasm, which has no such kernel (no input gradient passes a MobileNet-style
 * block without it): a forward depthwise convolution of zero-inserted dy with the flipped filter.
 */
import * as tf from '@tensorflow/tfjs'
import { depthwiseConv2dBackpropInputImpl } from '../impl/conv_backprop'
import { withTensors } from '../impl/kernel_util'

export function depthwiseConv2dNativeBackpropInput(args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap }): tf.Tensor {
  const { strides, dilations, pad, dimRoundingMode, inputShape } = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs
  return withTensors(args.inputs, ['dy', 'filter'], (dy, filter) =>
    depthwiseConv2dBackpropInputImpl(dy, filter, inputShape, strides, pad, dilations ?? 1, dimRoundingMode)
  )
}

export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as tf.KernelFunc
}
