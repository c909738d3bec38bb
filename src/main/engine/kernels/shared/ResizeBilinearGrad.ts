/**
 * ResizeBilinearGrad for the cpu and wasm backends. Both stock kernels ignore `halfPixelCenters`, so the gradient
 * of tf.image.resizeBilinear(x, size, false, true) — the centred mask upsampling the saliency method uses — is
 * wrong on both; the cpu kernel also returns [batch, width, height, depth], which fails for non-square inputs.
 * This kernel replays the forward pass's sampling (tfjs-backend-cpu ResizeBilinear: the same source rows/columns
 * and fractions, including the clamping at the borders) and scatters dy with the forward weights.
 */
import * as tf from '@tensorflow/tfjs'
import { runLoopKernel } from '../impl/heap'

interface Taps {
  lo: Int32Array
  hi: Int32Array
  frac: Float32Array
}

function taps(outSize: number, inSize: number, alignCorners: boolean, halfPixelCenters: boolean): Taps {
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize
  const ratio = effIn / effOut
  const lo = new Int32Array(outSize)
  const hi = new Int32Array(outSize)
  const frac = new Float32Array(outSize)
  for (let o = 0; o < outSize; o++) {
    const src = halfPixelCenters ? ratio * (o + 0.5) - 0.5 : ratio * o
    lo[o] = Math.max(0, Math.floor(src))
    hi[o] = Math.min(inSize - 1, Math.ceil(src))
    // Taken against the clamped floor, as the forward pass does; where lo == hi the two weights still sum to 1.
    frac[o] = src - lo[o]
  }
  return { lo, hi, frac }
}

export function resizeBilinearGrad(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.Tensor {
  const { inputs, backend } = args
  const { images, dy } = inputs
  if (images == null || dy == null) throw new Error('ResizeBilinearGrad: inputs images and dy are required')
  const { alignCorners, halfPixelCenters } = args.attrs as unknown as tf.ResizeBilinearGradAttrs
  const [batch, inH, inW, depth] = images.shape
  const [, outH, outW] = dy.shape
  const rows = taps(outH, inH, alignCorners, halfPixelCenters)
  const cols = taps(outW, inW, alignCorners, halfPixelCenters)
  return runLoopKernel(backend, [dy], [batch, inH, inW, depth], 'float32', (dx, g) => {
    let k = 0
    for (let b = 0; b < batch; b++) {
      for (let r = 0; r < outH; r++) {
        const top = (b * inH + rows.lo[r]) * inW
        const bottom = (b * inH + rows.hi[r]) * inW
        const fr = rows.frac[r]
        for (let c = 0; c < outW; c++) {
          const fc = cols.frac[c]
          const tl = (top + cols.lo[c]) * depth
          const tr = (top + cols.hi[c]) * depth
          const bl = (bottom + cols.lo[c]) * depth
          const br = (bottom + cols.hi[c]) * depth
          const wTL = (1 - fr) * (1 - fc)
          const wTR = (1 - fr) * fc
          const wBL = fr * (1 - fc)
          const wBR = fr * fc
          for (let d = 0; d < depth; d++) {
            const v = g[k++]
            dx[tl + d] += v * wTL
            dx[tr + d] += v * wTR
            dx[bl + d] += v * wBL
            dx[br + d] += v * wBR
          }
        }
      }
    }
  })
}

export const resizeBilinearGradConfigs: readonly tf.KernelConfig[] = ['cpu', 'wasm'].map((backendName) => ({
  kernelName: tf.ResizeBilinearGrad,
  backendName,
  kernelFunc: resizeBilinearGrad as unknown as tf.KernelFunc
}))
