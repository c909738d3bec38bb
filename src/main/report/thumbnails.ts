import sharp from 'sharp'
import { isPerturbationMethod, type SaliencyMethod } from '@common/saliency'
import type { ClassDef } from '@common/types'
import { renderOverlay } from '../explain/overlay'
import { upsampleBilinear } from '../saliency'

/** Thumbnails are this many pixels wide: about twice their printed width in points, so they stay sharp on paper. */
export const THUMB_WIDTH = 320

export interface Rgb {
  width: number
  height: number
  data: Uint8Array
}

/**
 * Photos and saliency overlays as JPEG (a report with hundreds of cases stays a few MB), label maps as PNG (flat
 * colours: smaller, and no ringing at class edges). pdfkit embeds both as they are.
 */
function thumbnail(rgb: Rgb, kernel: 'nearest' | 'lanczos3', format: 'jpeg' | 'png'): Promise<Buffer> {
  const height = Math.max(1, Math.round((rgb.height * THUMB_WIDTH) / rgb.width))
  const resized = sharp(Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength), { raw: { width: rgb.width, height: rgb.height, channels: 3 } }).resize(
    THUMB_WIDTH,
    height,
    { fit: 'fill', kernel }
  )
  return (format === 'jpeg' ? resized.jpeg({ quality: 88 }) : resized.png({ compressionLevel: 9 })).toBuffer()
}

export const imageThumbnail = (image: Rgb): Promise<Buffer> => thumbnail(image, 'lanczos3', 'jpeg')

/** A label map in its classes' colours (Cityscapes palette for the demo); unknown and ignored ids black. Nearest-neighbour keeps class edges crisp. */
export function labelThumbnail(labels: Uint16Array, width: number, height: number, classes: ClassDef[]): Promise<Buffer> {
  const colour = new Map(classes.map((c) => [c.id, c.color]))
  const data = new Uint8Array(width * height * 3)
  for (let i = 0; i < labels.length; i++) {
    const c = colour.get(labels[i])
    if (c) data.set(c, i * 3)
  }
  return thumbnail({ width, height, data }, 'nearest', 'png')
}

/**
 * The paper's figure style (saliency in red, the request outlined in blue) as the image view shows it. Gradient
 * maps are scaled by their peak, perturbation masks are already in [0, 1].
 */
export function saliencyThumbnail(
  image: Rgb,
  explanation: { method: string; saliency: Float32Array; saliencyHeight: number; saliencyWidth: number } | null,
  request: Uint8Array
): Promise<Buffer> {
  let saliency: Float32Array = new Float32Array(image.width * image.height)
  if (explanation) {
    saliency = upsampleBilinear(explanation.saliency, explanation.saliencyHeight, explanation.saliencyWidth, image.height, image.width)
    if (!isPerturbationMethod(explanation.method as SaliencyMethod)) {
      let peak = 1e-12
      for (const v of saliency) if (v > peak) peak = v
      for (let i = 0; i < saliency.length; i++) saliency[i] /= peak
    }
  }
  const overlay = renderOverlay({ width: image.width, height: image.height, image: image.data, saliency, request })
  return thumbnail({ width: image.width, height: image.height, data: overlay }, 'nearest', 'jpeg')
}
