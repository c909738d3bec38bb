import { AppError } from './errors'
import { normalisationAffine, type ModelSidecar } from './modelSidecar'

/**
 * Images cross to the engine's workers as the 8-bit RGB they are stored as, a quarter of the bytes of the model's
 * Float32 input, and become that input inside the worker, by the same function main uses for predictions, so an
 * image is the same input whichever side converts it. Here rather than in the engine: the worker-side handler
 * (saliency's, registered with the engine) and main's image readers both use it, and neither may import the other.
 */

/** 8-bit RGB, row-major HWC with three channels whatever the model takes. */
export interface RgbImage {
  rgb: Uint8Array
  height: number
  width: number
}

/** Row-major HWC in the model's input units. */
export interface InputImage {
  data: Float32Array
  height: number
  width: number
  channels: number
}

export type EngineImage = RgbImage | InputImage

/** What turns RGB into the model's input: its channel count (a grey model reads the red channel) and normalisation. */
export interface InputEncoding {
  channels: number
  normalisation: ModelSidecar['normalisation']
}

export function inputEncoding(sidecar: ModelSidecar): InputEncoding {
  return { channels: sidecar.input.channels, normalisation: sidecar.normalisation }
}

export function rgbToModelInput(rgb: Uint8Array, width: number, height: number, encoding: InputEncoding): Float32Array {
  const { channels } = encoding
  const { scale, offset } = normalisationAffine(encoding.normalisation, channels)
  const n = width * height
  const data = new Float32Array(n * channels)
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = rgb[i * 3 + Math.min(c, 2)] * scale[c] + offset[c]
  return data
}

const isRgb = (image: EngineImage): image is RgbImage => 'rgb' in image

/**
 * Each request's image in input units. Requests on one image share one RGB array (an audit explains many segments
 * of an image), and they share one converted copy too, as they shared one Float32 array before.
 */
export function withModelInputs<R extends { image: EngineImage }>(requests: R[], encoding: InputEncoding | undefined): (Omit<R, 'image'> & { image: InputImage })[] {
  const converted = new Map<Uint8Array, InputImage>()
  return requests.map((r) => {
    const image = r.image
    if (!isRgb(image)) return { ...r, image }
    if (!encoding) throw new AppError('INVALID_PARAMETERS', 'an RGB image reached the engine without the model input encoding to convert it with')
    let input = converted.get(image.rgb)
    if (!input) {
      input = { data: rgbToModelInput(image.rgb, image.width, image.height, encoding), height: image.height, width: image.width, channels: encoding.channels }
      converted.set(image.rgb, input)
    }
    return { ...r, image: input }
  })
}
