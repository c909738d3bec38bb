/**
 * AvgPool gradient that matches the forward pass at the borders. The forward pool (cpu, wasm) averages a window
 * over its in-bounds positions only, but tfjs's AvgPoolGrad kernels divide by the full filter area everywhere, so
 * with 'same' (or explicit) padding the gradient of border windows comes out too small on every backend (a corner
 * window of a 2×2 pool over 1 pixel gets 1/4 of its true gradient). dy is rescaled per output position by
 * area / in-bounds count before the kernel runs; interior windows are unchanged.
 *
 * Only backends whose AvgPoolGrad divides by the full area get the rescale (cpu and wasm measured here; webgl's
 * shader uses the same 1/area). TensorFlow's native kernel (tfjs-node, backend 'tensorflow') already divides by
 * the in-bounds count, so there dy passes through unchanged.
 */
import * as tf from '@tensorflow/tfjs'

const AREA_NORMALISED_BACKENDS = new Set(['cpu', 'wasm', 'webgl'])

function inBoundsCounts(out: number, stride: number, padBefore: number, filter: number, size: number): number[] {
  const counts: number[] = []
  for (let o = 0; o < out; o++) {
    const start = o * stride - padBefore
    counts.push(Math.min(size, start + filter) - Math.max(0, start))
  }
  return counts
}

export const avgPoolGradConfig: tf.GradConfig = {
  kernelName: tf.AvgPool,
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x] = saved as [tf.Tensor4D]
    const g = dy as tf.Tensor4D
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.AvgPoolAttrs
    const info = tf.backend_util.computePool2DInfo(x.shape, filterSize, strides, 1, pad, dimRoundingMode)
    const rows = inBoundsCounts(info.outHeight, info.strideHeight, info.padInfo.top, info.filterHeight, info.inHeight)
    const cols = inBoundsCounts(info.outWidth, info.strideWidth, info.padInfo.left, info.filterWidth, info.inWidth)
    const area = info.filterHeight * info.filterWidth
    const ratio = new Float32Array(rows.length * cols.length)
    let partial = false
    const rescale = AREA_NORMALISED_BACKENDS.has(tf.getBackend())
    rows.forEach((r, i) =>
      cols.forEach((c, j) => {
        ratio[i * cols.length + j] = area / (r * c)
        if (r * c !== area) partial = true
      })
    )
    const kernelAttrs = { filterSize, strides, pad } as unknown as tf.NamedAttrMap
    return {
      x: () =>
        tf.tidy(() => {
          const scaled = partial && rescale ? tf.mul(g, tf.tensor4d(ratio, [1, rows.length, cols.length, 1])) : g
          return tf.engine().runKernel(tf.AvgPoolGrad, { dy: scaled, input: x }, kernelAttrs) as tf.Tensor
        })
    }
  }
}
