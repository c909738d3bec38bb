import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { constants, crc32, deflateRawSync, deflateSync } from 'node:zlib'
import sharp from 'sharp'

/** Test fixtures written with sharp (libvips/libpng), plus a minimal palette/grey PNG encoder for what sharp cannot write. */

function ensureDir(path: string): void {
  mkdirSync(dirname(path), { recursive: true })
}

/** A deterministic RGB pattern, different per seed, so pixel checks can recompute it. */
export function rgbPattern(width: number, height: number, seed: number): Uint8Array {
  const out = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3
      out[p] = (x * 4 + seed * 37) & 255
      out[p + 1] = (y * 8 + seed * 11) & 255
      out[p + 2] = (x * y + seed) & 255
    }
  return out
}

export async function writeRgb(path: string, width: number, height: number, seed: number, format: 'png' | 'jpeg' = 'png'): Promise<Uint8Array> {
  ensureDir(path)
  const pixels = rgbPattern(width, height, seed)
  const img = sharp(pixels, { raw: { width, height, channels: 3 } })
  await (format === 'png' ? img.png() : img.jpeg({ quality: 95 })).toFile(path)
  return pixels
}

/** 8-bit single-channel PNG, as Cityscapes labelIds and the folder format's labels are. */
export async function writeGray8(path: string, values: ArrayLike<number>, width: number, height: number, options: { interlace?: boolean } = {}): Promise<void> {
  ensureDir(path)
  await sharp(Uint8Array.from(values), { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png({ progressive: options.interlace ?? false })
    .toFile(path)
}

/** 16-bit single-channel PNG, as Cityscapes instanceIds are. */
export async function writeGray16(path: string, values: ArrayLike<number>, width: number, height: number): Promise<void> {
  ensureDir(path)
  await sharp(Uint16Array.from(values), { raw: { width, height, channels: 1 } }).toColourspace('grey16').png().toFile(path)
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(data, crc32(Buffer.from(type, 'latin1'))), 0)
  return Buffer.concat([head, data, crc])
}

/** An 8-bit palette PNG whose pixel values are the given palette indices (sharp always re-quantizes). */
export function encodePalettePng(indices: ArrayLike<number>, width: number, height: number, palette: [number, number, number][]): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8
  ihdr[9] = 3
  const raw = Buffer.alloc(height * (width + 1))
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0
    for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = indices[y * width + x]
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', Buffer.from(palette.flat())),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0))
  ])
}

const MB = 1 << 20

/**
 * A zlib stream that inflates to `n` zero bytes, built without ever holding them: a full flush resets the
 * compressor, so one compressed megabyte (about 1 KB) can simply be repeated, as a bomb in the wild would be.
 */
export function zlibZeros(n: number): Buffer {
  const full = Math.floor(n / MB)
  const rest = n - full * MB
  const block = (size: number): Buffer => deflateRawSync(Buffer.alloc(size), { finishFlush: constants.Z_FULL_FLUSH, level: 9 })
  const megabyte = block(MB)
  const adler = Buffer.alloc(4)
  // Adler-32 of zeros: a stays 1, b adds 1 per byte.
  adler.writeUInt32BE((((n % 65521) << 16) | 1) >>> 0)
  return Buffer.concat([Buffer.from([0x78, 0xda]), ...Array<Buffer>(full).fill(megabyte), ...(rest ? [block(rest)] : []), deflateRawSync(Buffer.alloc(0)), adler])
}

/**
 * A valid 8-bit grey PNG of width × height black pixels, compressed as an encoder would compress it: about
 * 1 KB per megapixel, so 20000×20000 is a 400 KB file that inflates to 400 MB. `dataBytes` overrides how many
 * bytes the image data inflates to (more than the header needs: a bomb behind a small header).
 */
export function blackGreyPng(width: number, height: number, dataBytes = height * (width + 1)): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8
  ihdr[9] = 0
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlibZeros(dataBytes)),
    chunk('IEND', Buffer.alloc(0))
  ])
}

/** The same PNG with its IHDR declaring another size (CRC recomputed, so only the size is a lie). */
export function declareSize(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png)
  // The IHDR is always the first chunk: length at 8, type at 12, data at 16, CRC at 29.
  out.writeUInt32BE(width, 16)
  out.writeUInt32BE(height, 20)
  out.writeUInt32BE(crc32(out.subarray(16, 29), crc32(out.subarray(12, 16))), 29)
  return out
}

export function writeFileEnsured(path: string, data: string | Uint8Array): void {
  ensureDir(path)
  writeFileSync(path, data)
}

/** The standard VOC colour map (bit-interleaved), all 256 entries. */
export function vocPalette(): [number, number, number][] {
  const out: [number, number, number][] = []
  for (let i = 0; i < 256; i++) {
    let r = 0
    let g = 0
    let b = 0
    let c = i
    for (let j = 0; j < 8; j++) {
      r |= ((c >> 0) & 1) << (7 - j)
      g |= ((c >> 1) & 1) << (7 - j)
      b |= ((c >> 2) & 1) << (7 - j)
      c >>= 3
    }
    out.push([r, g, b])
  }
  return out
}

/** A label map from a per-pixel function. */
export function labelMap(width: number, height: number, f: (x: number, y: number) => number): number[] {
  const out: number[] = []
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.push(f(x, y))
  return out
}
