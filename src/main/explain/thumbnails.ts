import sharp from 'sharp'
import { isPerturbationMethod, type SaliencyMethod } from '@common/saliency'
import type { ClassDef } from '@common/types'
import { upsampleBilinear } from '../saliency'
import { renderOverlay } from './overlay'

/** The report's case thumbnails are this many pixels wide: about twice their printed width in points, so they stay sharp on paper. */
export const THUMB_WIDTH = 320

export interface Rgb {
  width: number
  height: number
  data: Uint8Array
}

/** An explanation's map as stored: at its own resolution, a perturbation mask in [0, 1] or a gradient map. */
export interface SaliencyMap {
  method: string
  saliency: Float32Array
  saliencyHeight: number
  saliencyWidth: number
}

/** A thumbnail `width` pixels wide keeps the image's aspect. */
export const thumbSize = (image: { width: number; height: number }, width: number): { width: number; height: number } => ({
  width,
  height: Math.max(1, Math.round((image.height * width) / image.width))
})

const rawInput = (rgb: Rgb) => sharp(Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength), { raw: { width: rgb.width, height: rgb.height, channels: 3 } })

/**
 * Photos and saliency overlays as JPEG (a report with hundreds of cases stays a few MB), label maps as PNG (flat
 * colours: smaller, and no ringing at class edges). pdfkit and the browser take both as they are.
 */
function encode(rgb: Rgb, format: 'jpeg' | 'png'): Promise<Buffer> {
  const img = rawInput(rgb)
  // Full-resolution colour: JPEG's usual halved chroma smears a one-pixel blue outline into grey.
  return (format === 'jpeg' ? img.jpeg({ quality: 85, chromaSubsampling: '4:4:4' }) : img.png({ compressionLevel: 9 })).toBuffer()
}

async function resized(rgb: Rgb, width: number, kernel: 'nearest' | 'lanczos3'): Promise<Rgb> {
  const size = thumbSize(rgb, width)
  const data = await rawInput(rgb).resize(size.width, size.height, { fit: 'fill', kernel }).raw().toBuffer()
  return { ...size, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }
}

/**
 * A request mask at thumbnail size: a thumbnail pixel is in the request when any image pixel it covers is, so a
 * 30-pixel rider in a 2048-pixel-wide image still shows after a 13-fold reduction (nearest sampling would drop it).
 */
export function maskAt(mask: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  const out = new Uint8Array(outWidth * outHeight)
  const cols = Array.from({ length: outWidth }, (_, x) => {
    const from = Math.floor((x * width) / outWidth)
    return [from, Math.max(from + 1, Math.floor(((x + 1) * width) / outWidth))]
  })
  for (let y = 0; y < outHeight; y++) {
    const y0 = Math.floor((y * height) / outHeight)
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * height) / outHeight))
    for (let x = 0; x < outWidth; x++) {
      const [x0, x1] = cols[x]
      let hit = 0
      for (let sy = y0; sy < y1 && !hit; sy++) for (let sx = x0; sx < x1 && !hit; sx++) hit = mask[sy * width + sx]
      out[y * outWidth + x] = hit ? 1 : 0
    }
  }
  return out
}

/** The map at thumbnail size in [0, 1]: gradient maps scaled by their peak, perturbation masks as they are. */
function saliencyAt(map: SaliencyMap | null, width: number, height: number): Float32Array {
  if (!map) return new Float32Array(width * height)
  const out = upsampleBilinear(map.saliency, map.saliencyHeight, map.saliencyWidth, height, width)
  if (!isPerturbationMethod(map.method as SaliencyMethod)) {
    let peak = 1e-12
    for (const v of out) if (v > peak) peak = v
    for (let i = 0; i < out.length; i++) out[i] /= peak
  }
  return out
}

/** A 2-pixel outline at 192 px shows as one screen pixel at half size, and about 1 pt on paper at 320 px. */
const outlineWidth = (width: number): number => Math.max(1, Math.round(width / 100))

/**
 * Overlays are drawn at thumbnail size, not at the image's: the outline keeps its width whatever the image's size
 * (a 1-pixel outline of a 2048-pixel image vanishes when reduced), and no full-size saliency map is made.
 */
async function overlay(image: Rgb, map: SaliencyMap | null, request: Uint8Array, width: number): Promise<Buffer> {
  const small = await resized(image, width, 'lanczos3')
  const mask = maskAt(request, image.width, image.height, small.width, small.height)
  const data = renderOverlay({ ...small, image: small.data, saliency: saliencyAt(map, small.width, small.height), request: mask, outline: outlineWidth(width) })
  return encode({ ...small, data }, 'jpeg')
}

export async function imageThumbnail(image: Rgb, width = THUMB_WIDTH): Promise<Buffer> {
  return encode(await resized(image, width, 'lanczos3'), 'jpeg')
}

/** The image with the request outlined in blue: where the explained pixels are. */
export const requestThumbnail = (image: Rgb, request: Uint8Array, width = THUMB_WIDTH): Promise<Buffer> => overlay(image, null, request, width)

/** The paper's figure style (saliency in red, the request outlined in blue), as the image view shows it. */
export const saliencyThumbnail = (image: Rgb, explanation: SaliencyMap | null, request: Uint8Array, width = THUMB_WIDTH): Promise<Buffer> =>
  overlay(image, explanation, request, width)

/** A label map in its classes' colours (Cityscapes palette for the demo); unknown and ignored ids black. Nearest-neighbour keeps class edges crisp. */
export async function labelThumbnail(labels: Uint16Array, width: number, height: number, classes: ClassDef[], outWidth = THUMB_WIDTH): Promise<Buffer> {
  const colour = new Map(classes.map((c) => [c.id, c.color]))
  const data = new Uint8Array(width * height * 3)
  for (let i = 0; i < labels.length; i++) {
    const c = colour.get(labels[i])
    if (c) data.set(c, i * 3)
  }
  return encode(await resized({ width, height, data }, outWidth, 'nearest'), 'png')
}
