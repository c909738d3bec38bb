import { AppError } from '@common/errors'
import type { GradientParams } from '@common/saliency'
import { baselineImages } from './baseline'
import { throwIfAborted, yieldToEventLoop } from '../cancellation'
import { type BatchArrays, classProbabilities, requestScores, SALIENCY_CANCELLED } from './batch'
import type { SegmentationModel } from './model'
import { seededNormal } from '../prng'

export interface GradientOutcome {
  /**
   * Per request, saliencyHeight×saliencyWidth: the channel-summed |averaged gradient| per pixel (zero inside R for
   * the context form) after the mean filter; at the image's own size, the per-pixel map itself.
   */
  maps: Float32Array[]
  /** S(x,R,c) per request. */
  score: number[]
}

/** Noise of SmoothGrad sample k, [H, W, C]: stream k of the seed, identical for every request and batch. */
export function smoothGradNoise(shape: [number, number, number], sigma: number, seed: number, k: number): Float32Array {
  return seededNormal(shape[0] * shape[1] * shape[2], sigma, seed, k)
}

/** Kernel = stride = image size / saliency size, as in Sec. 3.2; sizes that do not divide are rejected. */
export function meanFilterKernel(height: number, width: number, sh: number, sw: number): [number, number] {
  if (height % sh !== 0 || width % sw !== 0) {
    throw new AppError('INVALID_PARAMETERS', `saliency size ${sh}×${sw} must divide the image size ${height}×${width}`)
  }
  return [height / sh, width / sw]
}

/**
 * VG, IG and SG of the request score S(x,R,c) (Eq. 4 with G_grid, Eq. 5 for the context form). The batch score is
 * the sum of the per-request scores and request b's score depends only on image b, so one gradient of the batch
 * (the model's scoreGradient) gives every request its own gradient; accumulation and maps are plain arrays here.
 */
export async function gradientSaliency(
  model: SegmentationModel,
  batch: BatchArrays,
  params: GradientParams,
  options: { onStep?: (step: number) => void; signal?: AbortSignal } = {}
): Promise<GradientOutcome> {
  const { batch: b, images, requestMasks, classOneHot, height, width, channels } = batch
  const [kh, kw] = meanFilterKernel(height, width, params.saliencyHeight, params.saliencyWidth)
  const n = params.method === 'vg' ? 1 : params.method === 'ig' ? params.steps : params.samples
  const start = params.method === 'ig' ? baselineImages(images, batch, params.baseline, model.inputRange) : null
  const per = height * width * channels
  const acc = new Float32Array(images.length)
  const x = params.method === 'vg' ? images : new Float32Array(images.length)
  let vgScore: Float32Array | null = null
  for (let k = 1; k <= n; k++) {
    throwIfAborted(options.signal, SALIENCY_CANCELLED)
    if (params.method === 'ig') {
      const t = Math.fround(k / n)
      for (let i = 0; i < x.length; i++) x[i] = start![i] + Math.fround(t * Math.fround(images[i] - start![i]))
    } else if (params.method === 'sg') {
      const noise = smoothGradNoise([height, width, channels], params.sigma, params.seed, k - 1)
      for (let i = 0; i < x.length; i++) x[i] = images[i] + noise[i % per]
    }
    const { score, gradient } = await model.scoreGradient({ batch: b, height, width, channels, images: x, requestMasks, classOneHot })
    for (let i = 0; i < acc.length; i++) acc[i] += gradient[i]
    if (params.method === 'vg') vgScore = score
    options.onStep?.(k)
    await yieldToEventLoop()
  }
  throwIfAborted(options.signal, SALIENCY_CANCELLED)

  const hw = height * width
  const [sh, sw] = [params.saliencyHeight, params.saliencyWidth]
  const maps: Float32Array[] = []
  for (let i = 0; i < b; i++) {
    const map = new Float32Array(hw)
    for (let p = 0; p < hw; p++) {
      let s = 0
      for (let c = 0; c < channels; c++) {
        const j = (i * hw + p) * channels + c
        let g = Math.fround(acc[j] / n)
        if (params.method === 'ig' && params.multiplyByInput) g = Math.fround(g * Math.fround(images[j] - start![j]))
        s += Math.abs(g)
      }
      map[p] = params.form === 'context' && requestMasks[i * hw + p] !== 0 ? 0 : s
    }
    if (kh === 1 && kw === 1) {
      maps.push(map)
      continue
    }
    const pooled = new Float32Array(sh * sw)
    for (let y = 0; y < height; y++) for (let xx = 0; xx < width; xx++) pooled[Math.floor(y / kh) * sw + Math.floor(xx / kw)] += map[y * width + xx]
    for (let q = 0; q < pooled.length; q++) pooled[q] /= kh * kw
    maps.push(pooled)
  }
  // VG's one gradient was taken at the image itself; the other methods need S at x once more.
  const score = vgScore ? Array.from(vgScore) : requestScores(await classProbabilities(model, images, batch), batch)
  return { maps, score }
}
