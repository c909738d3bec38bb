/**
 * Conv2D gradient that also handles dilations > 1, which tfjs's own config rejects on every backend (DeepLab's
 * atrous layers need it). Undilated convolutions keep the stock path through the backprop kernels, so backends
 * with native kernels (and the fast wasm ones registered here) still serve them.
 */
import * as tf from '@tensorflow/tfjs'
import { conv2dBackpropFilterImpl, conv2dBackpropInputImpl } from '../impl/conv_backprop'
import { shapeToNHWC, toNCHW, toNHWC } from '../impl/kernel_util'

export const conv2DGradConfig: tf.GradConfig = {
  kernelName: tf.Conv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D]
    const g = dy as tf.Tensor4D
    const { dilations, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs
    if (tf.backend_util.tupleValuesAreOne(dilations)) {
      const common = { strides, pad, dataFormat, dimRoundingMode }
      return {
        x: () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: g, filter }, { ...common, inputShape: x.shape } as unknown as tf.NamedAttrMap),
        filter: () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: g }, { ...common, filterShape: filter.shape } as unknown as tf.NamedAttrMap)
      }
    }
    if (dataFormat === 'NCHW') {
      return {
        x: () => toNCHW(conv2dBackpropInputImpl(toNHWC(g), filter, shapeToNHWC(x.shape), strides, pad, dilations, dimRoundingMode)),
        filter: () => conv2dBackpropFilterImpl(toNHWC(x), toNHWC(g), filter.shape, strides, pad, dilations, dimRoundingMode)
      }
    }
    return {
      x: () => conv2dBackpropInputImpl(g, filter, x.shape, strides, pad, dilations, dimRoundingMode),
      filter: () => conv2dBackpropFilterImpl(x, g, filter.shape, strides, pad, dilations, dimRoundingMode)
    }
  }
}
