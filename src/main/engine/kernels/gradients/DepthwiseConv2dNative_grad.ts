/**
 * DepthwiseConv2dNative gradient that also handles dilations > 1 (tfjs's config rejects them on every backend).
 * Undilated convolutions keep the stock path through the backprop kernels.
 */
import * as tf from '@tensorflow/tfjs'
import { depthwiseConv2dBackpropFilterImpl, depthwiseConv2dBackpropInputImpl } from '../impl/conv_backprop'

export const depthwiseConv2dNativeGradConfig: tf.GradConfig = {
  kernelName: tf.DepthwiseConv2dNative,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D]
    const g = dy as tf.Tensor4D
    const { dilations, strides, pad, dimRoundingMode } = attrs as unknown as tf.DepthwiseConv2dNativeAttrs
    const d = dilations ?? 1
    if (tf.backend_util.tupleValuesAreOne(d)) {
      const common = { strides, pad, dilations: d, dimRoundingMode }
      return {
        x: () =>
          tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: g, filter }, { ...common, inputShape: x.shape } as unknown as tf.NamedAttrMap),
        filter: () =>
          tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x, dy: g }, { ...common, filterShape: filter.shape } as unknown as tf.NamedAttrMap)
      }
    }
    return {
      x: () => depthwiseConv2dBackpropInputImpl(g, filter, x.shape, strides, pad, d, dimRoundingMode),
      filter: () => depthwiseConv2dBackpropFilterImpl(x, g, filter.shape, strides, pad, d, dimRoundingMode)
    }
  }
}
