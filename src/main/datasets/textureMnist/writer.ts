import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AppError } from '@common/errors'
import {
  BIAS_TEXTURE_IDS,
  TEXTURE_MNIST_BACKGROUND_ID,
  TEXTURE_MNIST_CLASSES,
  TEXTURE_MNIST_SIZE,
  TEXTURE_MNIST_SPLITS,
  TEXTURE_NAMES,
  TextureMnistOptionsSchema,
  type TextureMnistOptionsInput,
  type TextureMnistSummary
} from '@common/textureMnist'
import { throwIfAborted, yieldToEventLoop } from '../../cancellation'
import { samplerFor, TEXTURE_MNIST_CANCELLED, type GenerateHooks } from './generate'
import { tileRects } from './tiles'
import { ensureEmptyDir, writeGrayPng } from '../datasetFolder'

/**
 * The dataset on disk. Layout (one generic folder per split, so the folder reader can import either alone):
 *   dataset.json                 options, counts, classes, textures, tile geometry
 *   classes.json                 { classes: [{ id, name, color }], ignoreIds: [] }
 *   train/ and test/             each with classes.json, images/NNNNNN.png (8-bit grey, image × 255),
 *                                labels/NNNNNN.png (8-bit class ids 0–10), meta/NNNNNN.json
 * dataset.json is written last: a folder without it is an interrupted run.
 */
export const DATASET_FORMAT = 'texture-mnist'
export const DATASET_FORMAT_VERSION = 1
const IN_FLIGHT = 8

export const sampleName = (index: number): string => String(index).padStart(6, '0')

export async function generateTextureMnist(
  input: TextureMnistOptionsInput,
  hooks: GenerateHooks = {}
): Promise<TextureMnistSummary> {
  const parsed = TextureMnistOptionsSchema.safeParse(input)
  if (!parsed.success) throw new AppError('INVALID_PARAMETERS', 'invalid texture-MNIST options', parsed.error.issues)
  const options = parsed.data
  const started = performance.now()
  const size = TEXTURE_MNIST_SIZE
  await ensureEmptyDir(options.outDir)
  const classesJson = JSON.stringify({ classes: TEXTURE_MNIST_CLASSES, ignoreIds: [] }, null, 2)
  await writeFile(join(options.outDir, 'classes.json'), classesJson)

  const total = options.trainCount + options.testCount
  const counts = { train: 0, test: 0 }
  const biasedCounts = { train: 0, test: 0 }
  let done = 0
  for (const split of TEXTURE_MNIST_SPLITS) {
    const sampler = samplerFor(options, split)
    const dir = join(options.outDir, split)
    for (const sub of ['images', 'labels', 'meta']) await mkdir(join(dir, sub), { recursive: true })
    await writeFile(join(dir, 'classes.json'), classesJson)
    const pending = new Set<Promise<void>>()
    // The first failed write; later ones are dropped so none goes unhandled while the loop unwinds.
    let failure: unknown = null
    const image = new Float32Array(size * size)
    try {
      for (let i = 0; i < sampler.count; i++) {
        throwIfAborted(hooks.signal, TEXTURE_MNIST_CANCELLED)
        if (failure !== null) throw failure
        const label = new Uint8Array(size * size)
        const meta = sampler.render(i, image, label)
        const grey = new Uint8Array(size * size)
        for (let p = 0; p < grey.length; p++) grey[p] = Math.round(image[p] * 255)
        const name = sampleName(i)
        const job: Promise<void> = Promise.all([
          writeGrayPng(join(dir, 'images', `${name}.png`), grey, size, size),
          writeGrayPng(join(dir, 'labels', `${name}.png`), label, size, size),
          writeFile(join(dir, 'meta', `${name}.json`), JSON.stringify(meta))
        ])
          .then(
            () => {
              done++
              hooks.onProgress?.({ split, done, total })
            },
            (err: unknown) => {
              failure ??= err
            }
          )
          .finally(() => pending.delete(job))
        pending.add(job)
        counts[split]++
        if (meta.isBiased) biasedCounts[split]++
        if (pending.size >= IN_FLIGHT) await Promise.race(pending)
        else if (i % 256 === 255) await yieldToEventLoop()
      }
    } finally {
      // Never return (or throw) with writes still landing in the folder.
      await Promise.all(pending)
    }
    if (failure !== null) throw failure
  }
  throwIfAborted(hooks.signal, TEXTURE_MNIST_CANCELLED)

  const { outDir, ...spec } = options
  const dataset = {
    format: DATASET_FORMAT,
    version: DATASET_FORMAT_VERSION,
    splitLayout: 'subfolders',
    size,
    options: spec,
    counts,
    biasedCounts,
    classes: TEXTURE_MNIST_CLASSES,
    backgroundId: TEXTURE_MNIST_BACKGROUND_ID,
    ignoreIds: [],
    textures: TEXTURE_NAMES.map((name, id) => ({
      id,
      name,
      biasCandidate: (BIAS_TEXTURE_IDS as readonly number[]).includes(id)
    })),
    tiles: tileRects(options.layout, size)
  }
  await writeFile(join(outDir, 'dataset.json'), JSON.stringify(dataset, null, 2))
  return { outDir, counts, biasedCounts, durationMs: performance.now() - started }
}
