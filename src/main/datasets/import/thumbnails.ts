import { join } from 'node:path'
import type { Sharp } from 'sharp'

/** Where an image's thumbnail is cached: one file per image content, so the same image in two datasets shares it. */
export function thumbnailPath(thumbnailDir: string, contentHash: string): string {
  return join(thumbnailDir, `${contentHash}.webp`)
}

/**
 * An image's thumbnail as the dataset grid shows it: within size×size, never enlarged, WebP. One pipeline for the
 * import that caches it and for a cache file made again later, so both write the same file.
 */
export function thumbnailWebp(image: Sharp, size: number): Promise<Buffer> {
  return image.resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true }).webp().toBuffer()
}
