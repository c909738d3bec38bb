import { mkdir, readdir } from 'node:fs/promises'
import sharp from 'sharp'
import { AppError } from '@common/errors'

/** Helpers for the dataset generators that write the generic folder layout (texture-MNIST, street scenes). */

/** One-channel 8-bit PNG: label maps keep their ids, grey images their values. */
export async function writeGrayPng(path: string, pixels: Uint8Array, width: number, height: number): Promise<void> {
  // Without b-w, sharp widens one-channel raw input to an RGB PNG.
  await sharp(pixels, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png({ compressionLevel: 6 }).toFile(path)
}

export async function writeRgbPng(path: string, pixels: Uint8Array, width: number, height: number): Promise<void> {
  await sharp(pixels, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 6 }).toFile(path)
}

/** A generator never writes into a folder that holds something: mixing two datasets would go unnoticed. */
export async function ensureEmptyDir(dir: string): Promise<void> {
  let entries: string[] = []
  try {
    entries = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (entries.length > 0) throw new AppError('CONFLICT', `output folder ${dir} is not empty`, { outDir: dir })
  await mkdir(dir, { recursive: true })
}
