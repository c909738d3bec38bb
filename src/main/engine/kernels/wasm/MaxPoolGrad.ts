/**
 * MaxPoolGrad for wasm. The stock wasm kernel is about 25× slower than the forward max-pool, and it differs from
 * the cpu backend (and TensorFlow) in which position of a window receives the gradient: on ties it picks the last
 * maximum instead of the first, and windows whose maximum is 0 (common after ReLU, or at zero padding) get none
 * at all. This one routes dy to the first maximum of each window, as the cpu kernel does, in one pass over the
 * backend's memory.
 */
import * as tf from '@tensorflow/tfjs'
import { runLoopKernel } from '../impl/heap'

export function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.Tensor {
  const { inputs, backend } = args
  const { dy, input } = inputs
  if (dy == null || input == null) throw new Error('MaxPoolGrad: inputs dy and input are required')
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode)
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw } = info
  const fh = info.effectiveFilterHeight
  const fw = info.effectiveFilterWidth
  return runLoopKernel(backend, [input, dy], input.shape, 'float32', (dx, x, g) => {
    const rowStride = W * C
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
          const wBase = (b * H + yMin) * rowStride + xMin * C
          for (let c = 0; c < C; c++) {
            // Row-major scan of the window with a strict '>' keeps the first maximum, as the cpu kernel does.
            let best = -Infinity
            let pos = -1
            for (let iy = yMin, row = wBase + c; iy < yMax; iy++, row += rowStride) {
              for (let ix = xMin, i = row; ix < xMax; ix++, i += C) {
                const v = x[i]
                if (v > best) {
                  best = v
                  pos = i
                }
              }
            }
            if (pos >= 0) dx[pos] += g[gBase + c]
          }
        }
      }
    }
  })
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc
}
