import { crc32, createInflate } from 'node:zlib'
import { checkPixelLimit, maxImagePixels } from './pixelLimit'

/**
 * A small PNG decoder for label maps. sharp (libvips) always expands palette PNGs to RGB, but a VOC label's
 * class id is the palette INDEX, and colour conversion must never touch label values; so labels are decoded
 * here, on node:zlib, returning raw samples. Handles every PNG colour type, bit depths 1–16 and Adam7
 * interlacing, and checks chunk CRCs so that a damaged file fails instead of yielding wrong ids.
 *
 * A PNG is a few hundred bytes of header away from gigabytes of pixels: the size the header declares is checked
 * against the pixel limit before anything is inflated, and inflating stops at the bytes that size needs.
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }
const ALLOWED_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] }
const ADAM7: [number, number, number, number][] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2]
]

export class PngDecodeError extends Error {
  override name = 'PngDecodeError'
}

export interface DecodedPng {
  width: number
  height: number
  bitDepth: number
  colorType: number
  channels: number
  /** Samples, row-major, interleaved by channel; palette images hold palette indices. */
  data: Uint16Array
  /** RGB triplets of a palette image. */
  palette: Uint8Array | null
}

export function isPng(buf: Uint8Array): boolean {
  return buf.length >= 8 && Buffer.from(buf.buffer, buf.byteOffset, 8).equals(SIGNATURE)
}

export interface DecodeOptions {
  /** Refuse a file whose header declares more pixels (ImageTooLargeError); the app-wide limit by default. */
  maxPixels?: number
  /** Refuse RGB(A) files at the header, as labelPlane would after decoding them. */
  labelsOnly?: boolean
}

export async function decodePng(input: Uint8Array, options: DecodeOptions = {}): Promise<DecodedPng> {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  if (!isPng(buf)) throw new PngDecodeError('not a PNG file (bad signature)')
  let pos = 8
  let width = 0
  let height = 0
  let bitDepth = 0
  let colorType = -1
  let interlace = 0
  let palette: Uint8Array | null = null
  const idat: Buffer[] = []
  let sawEnd = false
  while (pos + 12 <= buf.length) {
    const length = buf.readUInt32BE(pos)
    const type = buf.toString('latin1', pos + 4, pos + 8)
    if (pos + 12 + length > buf.length) throw new PngDecodeError(`truncated ${type} chunk`)
    const data = buf.subarray(pos + 8, pos + 8 + length)
    const crc = buf.readUInt32BE(pos + 8 + length)
    if (crc32(data, crc32(buf.subarray(pos + 4, pos + 8))) !== crc) throw new PngDecodeError(`CRC mismatch in ${type} chunk`)
    pos += 12 + length
    if (type === 'IHDR') {
      if (length !== 13) throw new PngDecodeError('bad IHDR chunk')
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      bitDepth = data[8]
      colorType = data[9]
      interlace = data[12]
      if (data[10] !== 0 || data[11] !== 0 || interlace > 1) throw new PngDecodeError('unsupported PNG compression, filter or interlace method')
      checkPixelLimit(width, height, options.maxPixels ?? maxImagePixels())
      if (options.labelsOnly) refuseRgbLabel(colorType)
    } else if (type === 'PLTE') {
      palette = new Uint8Array(data)
    } else if (type === 'IDAT') {
      idat.push(data)
    } else if (type === 'IEND') {
      sawEnd = true
      break
    }
  }
  if (colorType < 0) throw new PngDecodeError('missing IHDR chunk')
  if (!sawEnd) throw new PngDecodeError('truncated file (no IEND chunk)')
  const channels = CHANNELS[colorType]
  if (channels === undefined || !ALLOWED_DEPTHS[colorType].includes(bitDepth)) {
    throw new PngDecodeError(`invalid colour type ${colorType} with bit depth ${bitDepth}`)
  }
  if (width === 0 || height === 0) throw new PngDecodeError('zero image size')
  if (colorType === 3 && !palette) throw new PngDecodeError('palette image without PLTE chunk')
  if (idat.length === 0) throw new PngDecodeError('no image data')

  const bitsPerPixel = channels * bitDepth
  const filterBpp = Math.max(1, bitsPerPixel >> 3)
  const passes = (interlace ? ADAM7 : [[0, 0, 1, 1] as const]).flatMap(([x0, y0, dx, dy]) => {
    const pw = x0 >= width ? 0 : Math.ceil((width - x0) / dx)
    const ph = y0 >= height ? 0 : Math.ceil((height - y0) / dy)
    return pw === 0 || ph === 0 ? [] : [{ x0, y0, dx, dy, pw, ph, stride: Math.ceil((pw * bitsPerPixel) / 8) }]
  })
  const rawLength = passes.reduce((sum, p) => sum + p.ph * (p.stride + 1), 0)

  let raw: Buffer
  try {
    raw = await inflateAtMost(Buffer.concat(idat), rawLength)
  } catch (err) {
    throw new PngDecodeError(`corrupt image data: ${(err as Error).message}`)
  }
  if (raw.length < rawLength) throw new PngDecodeError('truncated image data')

  const out = new Uint16Array(width * height * channels)
  let offset = 0
  for (const { x0, y0, dx, dy, pw, ph, stride } of passes) {
    let prev = new Uint8Array(stride)
    let row = new Uint8Array(stride)
    for (let y = 0; y < ph; y++) {
      const filter = raw[offset]
      const src = raw.subarray(offset + 1, offset + 1 + stride)
      offset += stride + 1
      unfilter(filter, src, row, prev, filterBpp)
      unpackRow(row, pw, bitDepth, channels, out, ((y0 + y * dy) * width + x0) * channels, dx * channels)
      const t = prev
      prev = row
      row = t
    }
  }
  return { width, height, bitDepth, colorType, channels, data: out, palette }
}

/**
 * Inflates at most `limit` bytes: a stream that inflates to more than the header's size needs (a zlib bomb
 * behind a small header) costs no more memory than a well-formed one. Extra data is ignored, as libpng does.
 */
function inflateAtMost(data: Buffer, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const inflater = createInflate()
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    const finish = (): void => {
      if (settled) return
      settled = true
      resolve(Buffer.concat(chunks, Math.min(size, limit)))
    }
    inflater.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      size += chunk.length
      if (size >= limit) {
        finish()
        inflater.destroy()
      }
    })
    inflater.on('end', finish)
    inflater.on('error', (err) => {
      if (settled) return
      settled = true
      reject(err)
    })
    inflater.end(data)
  })
}

function unfilter(filter: number, src: Uint8Array, row: Uint8Array, prev: Uint8Array, bpp: number): void {
  const n = src.length
  switch (filter) {
    case 0:
      row.set(src)
      return
    case 1:
      for (let i = 0; i < n; i++) row[i] = (src[i] + (i >= bpp ? row[i - bpp] : 0)) & 0xff
      return
    case 2:
      for (let i = 0; i < n; i++) row[i] = (src[i] + prev[i]) & 0xff
      return
    case 3:
      for (let i = 0; i < n; i++) row[i] = (src[i] + (((i >= bpp ? row[i - bpp] : 0) + prev[i]) >> 1)) & 0xff
      return
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? row[i - bpp] : 0
        const b = prev[i]
        const c = i >= bpp ? prev[i - bpp] : 0
        const p = a + b - c
        const pa = Math.abs(p - a)
        const pb = Math.abs(p - b)
        const pc = Math.abs(p - c)
        row[i] = (src[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff
      }
      return
    default:
      throw new PngDecodeError(`invalid row filter ${filter}`)
  }
}

function unpackRow(row: Uint8Array, pixels: number, depth: number, channels: number, out: Uint16Array, start: number, step: number): void {
  if (depth === 8) {
    for (let x = 0; x < pixels; x++) for (let c = 0; c < channels; c++) out[start + x * step + c] = row[x * channels + c]
  } else if (depth === 16) {
    for (let x = 0; x < pixels; x++)
      for (let c = 0; c < channels; c++) {
        const i = (x * channels + c) * 2
        out[start + x * step + c] = (row[i] << 8) | row[i + 1]
      }
  } else {
    // Sub-byte depths only occur with one channel (grey or palette), packed from the most significant bit.
    const mask = (1 << depth) - 1
    for (let x = 0; x < pixels; x++) {
      const bit = x * depth
      out[start + x * step] = (row[bit >> 3] >> (8 - depth - (bit & 7))) & mask
    }
  }
}

/**
 * The class-id plane of a label PNG: grey value (grey or grey+alpha), or palette index. RGB labels are refused:
 * their ids would depend on a colour table this reader does not have.
 */
export function labelPlane(png: DecodedPng): Uint16Array {
  refuseRgbLabel(png.colorType)
  if (png.colorType === 0 || png.colorType === 3) return png.data
  const out = new Uint16Array(png.width * png.height)
  for (let i = 0; i < out.length; i++) out[i] = png.data[i * 2]
  return out
}

function refuseRgbLabel(colorType: number): void {
  if (colorType === 2 || colorType === 6) {
    throw new PngDecodeError(`label is an RGB${colorType === 6 ? 'A' : ''} image; expected one channel of class ids (grey or palette PNG)`)
  }
}
