import { TEXTURE_MNIST_SIZE, type TextureMnistMeta, type TileLayout } from '@common/textureMnist'

/** Background tiles: rectangles of the image, in the order TILE_LAYOUTS documents. */
export interface TileRect {
  x0: number
  y0: number
  x1: number
  y1: number
}

export function tileCount(layout: TileLayout): number {
  return layout === 'halves' ? 2 : 4
}

export function tileRects(layout: TileLayout, size: number): TileRect[] {
  const h = size / 2
  if (layout === 'halves') {
    return [
      { x0: 0, y0: 0, x1: size, y1: h },
      { x0: 0, y0: h, x1: size, y1: size }
    ]
  }
  return [
    { x0: 0, y0: 0, x1: h, y1: h },
    { x0: h, y0: 0, x1: size, y1: h },
    { x0: 0, y0: h, x1: h, y1: size },
    { x0: h, y0: h, x1: size, y1: size }
  ]
}

/** The tile as a binary mask over the whole image: C_bias for the biased tile, before removing the digit. */
export function tileMask(layout: TileLayout, tile: number, size: number): Uint8Array {
  const rect = tileRects(layout, size)[tile]
  if (!rect) throw new RangeError(`layout ${layout} has no tile ${tile}`)
  const mask = new Uint8Array(size * size)
  for (let y = rect.y0; y < rect.y1; y++) mask.fill(1, y * size + rect.x0, y * size + rect.x1)
  return mask
}

/** C_bias of one image from its record, or null when the image is unbiased. */
export function biasedTileMask(
  meta: Pick<TextureMnistMeta, 'layout' | 'biasedTile'>,
  size: number = TEXTURE_MNIST_SIZE
): Uint8Array | null {
  return meta.biasedTile === null ? null : tileMask(meta.layout, meta.biasedTile, size)
}
