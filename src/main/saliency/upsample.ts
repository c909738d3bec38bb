import { interpolationMatrix } from '../engine/segmentationModel'

/**
 * Bilinear upsampling with half-pixel centres, written as two interpolation matrices (Mup = A_h · M · A_wᵀ):
 * the same weights every runtime uses to upsample masks inside the perturbation step, so a displayed mask is
 * the one that was optimised.
 */
export { interpolationMatrix }

/** [h, w] → [outHeight, outWidth] on plain arrays, for results and metrics. */
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
