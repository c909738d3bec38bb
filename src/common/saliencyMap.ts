import { isPerturbationMethod, type SaliencyMethod, type SaliencyResult } from './saliency'

/**
 * A saliency map from its low-resolution cells to the image: the one upsampling that main (metrics, thumbnails,
 * perturbed images, `ctxlens explain`) and the renderer (the image screen's heatmap) share, so a map is stored
 * and sent at its own resolution and every picture of it is the same wherever it is drawn.
 */

/**
 * Bilinear interpolation weights with half-pixel centres (TensorFlow's halfPixelCenters rule): row i holds the
 * weights of the n source samples for output i. Part of the engine seam's contract too: every runtime upsamples
 * masks inside the perturbation step with exactly these weights (Mup = A_h · M · A_wᵀ), so a displayed mask is
 * the one that was optimised.
 */
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

/** Saliency for display: 0–255 per pixel; perturbation masks are already in [0, 1], gradient maps are scaled by their peak. */
export function saliencyToBytes(values: Float32Array, perturbation: boolean): Uint8Array {
  let peak = 1
  if (!perturbation) {
    peak = 1e-12
    for (const v of values) if (v > peak) peak = v
  }
  const out = new Uint8Array(values.length)
  for (let i = 0; i < values.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, values[i] / peak)) * 255)
  return out
}

/** A stored map as it is sent: its cells at their own resolution, and the image it is drawn over. */
export interface LowResolutionMap {
  method: string
  /** Row-major, saliencyHeight×saliencyWidth. */
  saliency: Float32Array
  saliencyHeight: number
  saliencyWidth: number
  width: number
  height: number
}

/** The heatmap's bytes at image size: upsampled, then scaled as `saliencyToBytes` says for the method. */
export function saliencyDisplayBytes(map: LowResolutionMap): Uint8Array {
  const upsampled = upsampleBilinear(map.saliency, map.saliencyHeight, map.saliencyWidth, map.height, map.width)
  return saliencyToBytes(upsampled, isPerturbationMethod(map.method as SaliencyMethod))
}

/** A result's map at image size: the one the worker sent when it was asked to, else upsampled here the same way. */
export function upsampledMap(r: Pick<SaliencyResult, 'mask' | 'maskHeight' | 'maskWidth' | 'imageHeight' | 'imageWidth' | 'upsampled'>): Float32Array {
  return r.upsampled ?? upsampleBilinear(r.mask, r.maskHeight, r.maskWidth, r.imageHeight, r.imageWidth)
}
