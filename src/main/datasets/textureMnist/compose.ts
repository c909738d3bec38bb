import {
  TEXTURE_MNIST_BACKGROUND_ID,
  TEXTURE_MNIST_SIZE,
  type TextureMnistMeta,
  type TextureMnistSpec,
  type TextureMnistSplit
} from '@common/textureMnist'
import { chooseTextures } from './bias'
import { digitMask } from './digit'
import type { MnistSplit } from './mnist'
import { createRng, HASH_FAMILY, hashInts, shuffleInPlace } from '../../prng'
import { TEXTURE_SIZE } from './textures'
import { tileCount, tileRects } from './tiles'

/**
 * One split's sampling plan and the image composition. Digits come class-balanced, as in the authors'
 * generator: every block of ten images holds each digit once (in a shuffled order), and the k-th image of a
 * digit is the k-th entry of a seeded permutation of that digit's MNIST images (wrapping around).
 */
const SPLIT_TAG: Record<TextureMnistSplit, number> = { train: 1, test: 2 }
const STREAM = { classPermutation: 1, blockOrder: 2, image: 3 } as const

/** Every stream of a split is keyed by (seed, what it is for, …), so each image can be regenerated alone. */
const hashSeeds = (...values: number[]): number => hashInts(HASH_FAMILY.textureMnist, values)

export function splitSeed(spec: Pick<TextureMnistSpec, 'seed' | 'testSeed'>, split: TextureMnistSplit): number {
  const base = split === 'test' && spec.testSeed !== null ? spec.testSeed : spec.seed
  return hashSeeds(base, SPLIT_TAG[split])
}

export interface SplitSampler {
  split: TextureMnistSplit
  count: number
  /** Composes image `index` into the given views (size² each) and returns its record. */
  render(index: number, image: Float32Array, label: Uint8Array): TextureMnistMeta
}

export function createSampler(
  spec: TextureMnistSpec,
  split: TextureMnistSplit,
  mnist: MnistSplit,
  textures: Float32Array[]
): SplitSampler {
  const size = TEXTURE_MNIST_SIZE
  const seed = splitSeed(spec, split)
  const byDigit: number[][] = Array.from({ length: 10 }, () => [])
  for (let i = 0; i < mnist.count; i++) byDigit[mnist.labels[i]].push(i)
  byDigit.forEach((ids, d) => shuffleInPlace(ids, createRng(hashSeeds(seed, STREAM.classPermutation, d)).next))
  const present = byDigit.map((ids, d) => (ids.length > 0 ? d : -1)).filter((d) => d >= 0)

  const rects = tileRects(spec.layout, size)
  const tiles = tileCount(spec.layout)
  const rule = { bias: spec.bias, biasedDigit: spec.biasedDigit, biasTexture: spec.biasTexture }
  const mask = new Uint8Array(size * size)
  const tileOf = new Uint8Array(size * size)
  rects.forEach((r, t) => {
    for (let y = r.y0; y < r.y1; y++) tileOf.fill(t, y * size + r.x0, y * size + r.x1)
  })

  const pickDigit = (index: number): { digit: number; mnistIndex: number } => {
    const block = Math.floor(index / present.length)
    const order = [...present]
    shuffleInPlace(order, createRng(hashSeeds(seed, STREAM.blockOrder, block)).next)
    const digit = order[index % present.length]
    const ids = byDigit[digit]
    return { digit, mnistIndex: ids[block % ids.length] }
  }

  const render = (index: number, image: Float32Array, label: Uint8Array): TextureMnistMeta => {
    const { digit, mnistIndex } = pickDigit(index)
    const rng = createRng(hashSeeds(seed, STREAM.image, index))
    const choice = chooseTextures(rng, digit, tiles, rule)
    // A random crop of the tiled texture per region, each region's crop starting at the region's corner.
    const fgOffset = [rng.int(TEXTURE_SIZE), rng.int(TEXTURE_SIZE)]
    const tileOffsets = rects.map(() => [rng.int(TEXTURE_SIZE), rng.int(TEXTURE_SIZE)])
    digitMask(mnist.images, mnistIndex, mnist.rows, mnist.cols, size, mask)
    const fg = textures[choice.foreground]
    const wrap = TEXTURE_SIZE - 1
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const p = y * size + x
        if (mask[p]) {
          image[p] = fg[((fgOffset[1] + y) & wrap) * TEXTURE_SIZE + ((fgOffset[0] + x) & wrap)]
          label[p] = digit
        } else {
          const t = tileOf[p]
          const r = rects[t]
          const o = tileOffsets[t]
          image[p] = textures[choice.tiles[t]][((o[1] + y - r.y0) & wrap) * TEXTURE_SIZE + ((o[0] + x - r.x0) & wrap)]
          label[p] = TEXTURE_MNIST_BACKGROUND_ID
        }
      }
    }
    return {
      index,
      split,
      digit,
      mnistIndex,
      foregroundTexture: choice.foreground,
      tileTextures: choice.tiles,
      layout: spec.layout,
      biasedTile: choice.biasedTile,
      isBiased: choice.biasedTile !== null
    }
  }

  return { split, count: split === 'train' ? spec.trainCount : spec.testCount, render }
}
