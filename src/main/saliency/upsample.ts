import * as tf from '@tensorflow/tfjs'

/**
 * Bilinear upsampling with half-pixel centres, written as two interpolation matrices (Mup = A_h · M · A_wᵀ).
 * Not tf.image.resizeBilinear: its gradient kernels ignore halfPixelCenters, so the mask gradient would belong
 * to a different (off-centre) upsampling than the forward pass. Matrix products have exact gradients on every
 * backend and cost little at mask sizes.
 */

/** Row i holds the weights of the n source samples for output i (TensorFlow's halfPixelCenters rule). */
export function interpolationMatrix(outSize: number, inSize: number): Float32Array {
  const a = new Float32Array(outSize * inSize)
  const scale = inSize / outSize
  for (let i = 0; i < outSize; i++) {
    const src = (i + 0.5) * scale - 0.5
    const fl = Math.floor(src)
    const lo = Math.max(fl, 0)
    const hi = Math.min(Math.ceil(src), inSize - 1)
    const t = src - fl
    a[i * inSize + lo] += 1 - t
    a[i * inSize + hi] += t
  }
  return a
}

/** [B, h, w] → [B, H, W], differentiable. */
export function upsampleMasks(m: tf.Tensor3D, outHeight: number, outWidth: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, h, w] = m.shape
    const ah = tf.tensor2d(interpolationMatrix(outHeight, h), [outHeight, h])
    const awT = tf.tensor2d(interpolationMatrix(outWidth, w), [outWidth, w]).transpose()
    // Rows first: [h, B·w] so each product is a plain 2-D matmul whose terms do not depend on the batch size.
    const rows = tf.matMul(ah, m.transpose([1, 0, 2]).reshape([h, b * w])) // [H, B·w]
    const byBatch = rows.reshape([outHeight, b, w]).transpose([1, 0, 2]).reshape([b * outHeight, w])
    return tf.matMul(byBatch, awT).reshape([b, outHeight, outWidth]) as tf.Tensor3D
  })
}

/** The same upsampling on plain arrays, for results and metrics outside the tensor world. */
export function upsampleBilinear(data: Float32Array, h: number, w: number, outHeight: number, outWidth: number): Float32Array {
  const ah = interpolationMatrix(outHeight, h)
  const aw = interpolationMatrix(outWidth, w)
  const tmp = new Float32Array(outHeight * w)
  for (let i = 0; i < outHeight; i++) {
    for (let k = 0; k < h; k++) {
      const wk = ah[i * h + k]
      if (wk === 0) continue
      for (let j = 0; j < w; j++) tmp[i * w + j] += wk * data[k * w + j]
    }
  }
  const out = new Float32Array(outHeight * outWidth)
  for (let i = 0; i < outHeight; i++) {
    for (let j = 0; j < outWidth; j++) {
      let s = 0
      for (let k = 0; k < w; k++) s += tmp[i * w + k] * aw[j * w + k]
      out[i * outWidth + j] = s
    }
  }
  return out
}
