/**
 * Conv2DBackpropInput for wasm as a forward convolution of (zero-inserted) dy with the flipped, in/out-swapped
 * filter: the stock wasm kernel is a scalar loop about 9× slower than XNNPACK's forward convolution.
 * Also serves conv2dTranspose, whose forward pass is this kernel.
 */
import * as tf from '@tensorflow/tfjs'
import { conv2dBackpropInputImpl } from '../impl/conv_backprop'
import { shapeToNHWC, toNCHW, toNHWC, withTensors } from '../impl/kernel_util'

/** Not part of the stock attrs; honoured when present so callers can request a dilated transpose. */
type Attrs = tf.Conv2DBackpropInputAttrs & { dilations?: [number, number] | number }

export function conv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap }): tf.Tensor {
  const { strides, pad, dataFormat, dimRoundingMode, inputShape, dilations } = args.attrs as unknown as Attrs
  return withTensors(args.inputs, ['dy', 'filter'], (dy, filter) =>
    tf.tidy(() => {
      if (dataFormat === 'NCHW') {
        return toNCHW(conv2dBackpropInputImpl(toNHWC(dy), filter, shapeToNHWC(inputShape), strides, pad, dilations ?? 1, dimRoundingMode))
      }
      return conv2dBackpropInputImpl(dy, filter, inputShape, strides, pad, dilations ?? 1, dimRoundingMode)
    })
  )
}

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc
}
