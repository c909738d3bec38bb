/**
 * AvgPoolGrad for wasm in one pass over the backend's memory (the stock kernel is about 10× slower than the
 * forward pool). Same contract as every tfjs backend's kernel: each window spreads dy / (filter area) over its
 * in-bounds positions; gradients/AvgPool_grad.ts rescales dy for border windows that the forward pass averaged
 * over fewer positions.
 */
import * as tf from '@tensorflow/tfjs'
import { runLoopKernel } from '../impl/heap'

export function avgPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.Tensor {
  const { inputs, backend } = args
  const { dy, input } = inputs
  if (dy == null || input == null) throw new Error('AvgPoolGrad: inputs dy and input are required')
  const { filterSize, strides, pad } = args.attrs as unknown as tf.AvgPoolGradAttrs
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad)
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw } = info
  const fh = info.effectiveFilterHeight
  const fw = info.effectiveFilterWidth
  const scale = 1 / (info.filterHeight * info.filterWidth)
  return runLoopKernel(backend, [dy], input.shape, 'float32', (dx, g) => {
    for (let b = 0; b < batchSize; b++) {
      for (let oy = 0; oy < OH; oy++) {
        const y0 = oy * sh - info.padInfo.top
        const yMin = Math.max(0, y0)
        const yMax = Math.min(H, y0 + fh)
        for (let ox = 0; ox < OW; ox++) {
          const x0 = ox * sw - info.padInfo.left
          const xMin = Math.max(0, x0)
          const xMax = Math.min(W, x0 + fw)
          const gBase = ((b * OH + oy) * OW + ox) * C
          for (let iy = yMin; iy < yMax; iy++) {
            for (let ix = xMin; ix < xMax; ix++) {
              const base = ((b * H + iy) * W + ix) * C
              for (let c = 0; c < C; c++) dx[base + c] += g[gBase + c] * scale
            }
          }
        }
      }
    }
  })
}

export const avgPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.AvgPoolGrad,
  backendName: 'wasm',
  kernelFunc: avgPoolGrad as unknown as tf.KernelFunc
}
