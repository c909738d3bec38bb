import sharp, { type OutputInfo } from 'sharp'
import { AppError } from '@common/errors'
import type { ModelSidecar } from '@common/modelSidecar'
import { inputEncoding, rgbToModelInput } from '@common/rgbInput'

export interface ModelImage {
  width: number
  height: number
  /** The model's input: normalised, NHWC without the batch axis. */
  data: Float32Array
  channels: number
  /** RGB for figures, whatever the model's channel count. */
  rgb: Uint8Array
}

/**
 * Reads an image file as the model expects it: its channel count, its input size (no silent resizing: a
 * request mask drawn on the original must still line up), and its normalisation.
 */
export async function readImageForModel(path: string, sidecar: ModelSidecar): Promise<ModelImage> {
  const { height: expectedH, width: expectedW, channels } = sidecar.input
  let raw: Buffer
  let info: OutputInfo
  try {
    const img = sharp(path).removeAlpha()
    const out = await (channels === 1 ? img.extractChannel(0) : img.toColourspace('srgb')).raw().toBuffer({ resolveWithObject: true })
    raw = out.data
    info = out.info
  } catch (err) {
    throw new AppError('IMAGE_UNREADABLE', `Cannot read image ${path}: ${(err as Error).message}`, { path })
  }
  if (info.height !== expectedH || info.width !== expectedW) {
    throw new AppError(
      'IMAGE_SIZE_MISMATCH',
      `Image ${path} is ${info.width}×${info.height}, the model takes ${expectedW}×${expectedH}`,
      { path, width: info.width, height: info.height, expected: [expectedW, expectedH] }
    )
  }
  const n = info.width * info.height
  const rgb = new Uint8Array(n * 3)
  const srcChannels = info.channels
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = raw[i * srcChannels + Math.min(c, srcChannels - 1)]
  return { width: info.width, height: info.height, data: toModelInput(rgb, info.width, info.height, sidecar), channels, rgb }
}

/**
 * 8-bit RGB as the model's input tensor data: its channel count (a grey model reads the red channel) and its
 * normalisation. Files (readImageForModel), stored images and predictions all go through here, so an image is the
 * same input whichever way it reaches the model.
 */
export function toModelInput(rgb: Uint8Array, width: number, height: number, sidecar: ModelSidecar, imageId?: number): Float32Array {
  requireModelSize(width, height, sidecar, imageId)
  // The engine's workers convert RGB sent to them with the same function (@common/rgbInput).
  return rgbToModelInput(rgb, width, height, inputEncoding(sidecar))
}

/** No silent resizing: a request mask drawn on the image has to line up with the model's output pixel for pixel. */
export function requireModelSize(width: number, height: number, sidecar: ModelSidecar, imageId?: number): void {
  if (width !== sidecar.input.width || height !== sidecar.input.height) {
    const which = imageId === undefined ? 'The image' : `Image ${imageId}`
    throw new AppError('IMAGE_SIZE_MISMATCH', `${which} is ${width}×${height}, the model takes ${sidecar.input.width}×${sidecar.input.height}`, {
      ...(imageId === undefined ? {} : { imageId }),
      width,
      height,
      expected: [sidecar.input.width, sidecar.input.height]
    })
  }
}

/** A request mask drawn by hand or exported by another tool: any non-zero pixel belongs to R. */
export async function readRequestMask(path: string, width: number, height: number): Promise<Uint8Array> {
  let raw: Buffer
  let info: OutputInfo
  try {
    const out = await sharp(path).extractChannel(0).raw().toBuffer({ resolveWithObject: true })
    raw = out.data
    info = out.info
  } catch (err) {
    throw new AppError('IMAGE_UNREADABLE', `Cannot read request mask ${path}: ${(err as Error).message}`, { path })
  }
  if (info.width !== width || info.height !== height) {
    throw new AppError('REQUEST_SIZE_MISMATCH', `Request mask ${path} is ${info.width}×${info.height}, the image is ${width}×${height}`, {
      path
    })
  }
  const mask = new Uint8Array(width * height)
  for (let i = 0; i < mask.length; i++) mask[i] = raw[i] ? 1 : 0
  if (!mask.some((v) => v)) throw new AppError('EMPTY_REQUEST_MASK', `Request mask ${path} is empty: mark the segment to explain with non-zero pixels`)
  return mask
}
