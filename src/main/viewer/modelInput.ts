import { AppError } from '@common/errors'
import { normalisationAffine, type ModelSidecar } from '@common/modelSidecar'
import type { RgbImage } from '@common/rgbInput'
import { requireModelSize, toModelInput } from '../explain/imageInput'
import type { LoadedImage } from '../datasets/import'

/**
 * A stored image as the engine takes it: its RGB bytes, converted to the model's input in the worker. The size is
 * checked here, before anything is queued, as modelInputFromRgb checks it.
 */
export function modelRgb(image: LoadedImage, sidecar: ModelSidecar): RgbImage {
  requireModelSize(image.width, image.height, sidecar, image.imageId)
  return { rgb: image.data, height: image.height, width: image.width }
}

/**
 * A stored image as the model's input (channels, normalisation). The size must already match: a request drawn
 * on the image has to line up with the model's output pixel for pixel.
 */
export function modelInputFromRgb(image: LoadedImage, sidecar: ModelSidecar): { data: Float32Array; height: number; width: number; channels: number } {
  return { data: toModelInput(image.data, image.width, image.height, sidecar, image.imageId), ...sidecar.input }
}

/**
 * p(x, M) of Eq. 2 (grid) or p_context(x, R, M) of Eq. 3 (context) with the final upsampled mask, in input units:
 * x∘M + a∘(1−M), and for context the request's own pixels stay x. Only the constant baseline is reproduced here.
 */
export function perturbedInput(
  input: { data: Float32Array; channels: number },
  mask: Float32Array,
  request: Uint8Array,
  params: { method: string; baseline?: { kind: string; value?: number | number[] }; clip?: boolean },
  sidecar: ModelSidecar
): Float32Array {
  const baseline = params.baseline ?? { kind: 'constant', value: 0 }
  if (baseline.kind !== 'constant') {
    throw new AppError('INVALID_PARAMETERS', `the perturbed image can only be rebuilt for a constant baseline, this explanation used ${baseline.kind}`)
  }
  const { channels } = input
  const values = Array.isArray(baseline.value) ? baseline.value : [baseline.value ?? 0]
  const { min, max } = normalisationAffine(sidecar.normalisation, channels)
  const out = new Float32Array(input.data.length)
  for (let i = 0; i < mask.length; i++) {
    const m = params.method === 'context' && request[i] ? 1 : mask[i]
    for (let c = 0; c < channels; c++) {
      const a = values[Math.min(c, values.length - 1)]
      let v = input.data[i * channels + c] * m + a * (1 - m)
      if (params.clip !== false) v = Math.min(max[c], Math.max(min[c], v))
      out[i * channels + c] = v
    }
  }
  return out
}

/** Back from input units to RGB bytes, for showing the perturbed image. */
export function inputToRgb(data: Float32Array, n: number, sidecar: ModelSidecar): Uint8Array {
  const { channels } = sidecar.input
  const { scale, offset } = normalisationAffine(sidecar.normalisation, channels)
  const rgb = new Uint8Array(n * 3)
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++) {
      const k = Math.min(c, channels - 1)
      rgb[i * 3 + c] = Math.round(Math.min(255, Math.max(0, (data[i * channels + k] - offset[k]) / scale[k])))
    }
  return rgb
}
