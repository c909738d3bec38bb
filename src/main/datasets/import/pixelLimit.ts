import sharp, { type Sharp } from 'sharp'
import { AppError } from '@common/errors'

/**
 * The largest image or label map a dataset may hold, in pixels. A label costs about 4–5 bytes per pixel to
 * decode and check (inflated rows, 16-bit samples, train ids) and the importer reads two pairs at once, so
 * 8192×8192 keeps the worst case near 600 MB. sharp's own default (16383², 268 MP) would allow 1.2 GB per
 * label, and a 400 KB PNG can declare that much. Cityscapes frames are 2 MP, large aerial tiles 25 MP.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 8192 * 8192

const ENV = 'CTXLENS_MAX_IMAGE_PIXELS'

/** The limit in force: CTXLENS_MAX_IMAGE_PIXELS when set (for datasets of very large tiles), else the default. */
export function maxImagePixels(): number {
  const raw = process.env[ENV]
  if (raw === undefined || raw === '') return DEFAULT_MAX_IMAGE_PIXELS
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 1) throw new AppError('INVALID_PARAMETERS', `${ENV} must be a positive whole number of pixels, got "${raw}"`)
  return n
}

/** A file whose header declares more pixels than the limit; thrown before anything is decoded. */
export class ImageTooLargeError extends Error {
  override name = 'ImageTooLargeError'

  constructor(
    readonly width: number,
    readonly height: number,
    readonly maxPixels: number
  ) {
    super(
      `its header declares ${width}×${height} pixels (${megapixels(width * height)}), over the limit of ${megapixels(maxPixels)}; ` +
        `not decoded (${ENV} raises the limit)`
    )
  }
}

const megapixels = (n: number): string => `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} megapixels`

/** Throws ImageTooLargeError when width × height is over the limit. */
export function checkPixelLimit(width: number, height: number, maxPixels: number = maxImagePixels()): void {
  if (width * height > maxPixels) throw new ImageTooLargeError(width, height, maxPixels)
}

/**
 * A sharp pipeline over an encoded image whose header size is within the limit. metadata() reads only the
 * header, so an oversized file is refused by its declared size, named in the error, before libvips decodes it;
 * limitInputPixels stays on as the backstop for formats whose header sharp cannot size.
 */
export async function sharpWithinLimit(buf: Buffer, maxPixels: number = maxImagePixels()): Promise<Sharp> {
  const { width, height } = await sharp(buf).metadata()
  if (width && height) checkPixelLimit(width, height, maxPixels)
  return sharp(buf, { limitInputPixels: maxPixels })
}
