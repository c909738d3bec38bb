import { AppError } from '@common/errors'
import {
  STREET_SCENE_SPLITS,
  StreetScenesSpecSchema,
  type StreetSceneMeta,
  type StreetScenesProgress,
  type StreetScenesSpec,
  type StreetScenesSpecInput,
  type StreetSceneSplit
} from '@common/streetScenes'
import { throwIfAborted, yieldToEventLoop } from '../../cancellation'
import { createRng, HASH_FAMILY, hashInts } from '../../prng'
import { generateStreetScene, type StreetScene } from './scene'

export interface StreetScenesHooks {
  onProgress?: (p: StreetScenesProgress) => void
  signal?: AbortSignal
}

/** Parses a spec, turning schema failures into the contract's error. */
export function parseStreetScenesSpec(input: StreetScenesSpecInput): StreetScenesSpec {
  const parsed = StreetScenesSpecSchema.safeParse(input)
  if (!parsed.success) throw new AppError('INVALID_PARAMETERS', 'invalid street-scene options', parsed.error.issues)
  return parsed.data
}

/** The seed of image `index` of a split: independent of every other image, so ranges can be made in any order. */
export function streetSceneSeed(seed: number, split: StreetSceneSplit, index: number): number {
  return hashInts(HASH_FAMILY.streetScenes, [seed, STREET_SCENE_SPLITS.indexOf(split) + 1, index])
}

/** Image `index` of a split, exactly as the batch generator and the folder writer make it. */
export function streetSceneSample(spec: StreetScenesSpec, split: StreetSceneSplit, index: number): StreetScene {
  return generateStreetScene(createRng(streetSceneSeed(spec.seed, split, index)), spec)
}

export interface StreetSceneBatch {
  split: StreetSceneSplit
  start: number
  count: number
  height: number
  width: number
  /** count × height × width × 3 (NHWC), RGB in [0, 1]. */
  images: Float32Array
  /** count × height × width class ids. */
  labels: Uint8Array
  /** count × height × width instance ids (0 = stuff; else meta[k].objects[*].instance). */
  instances: Uint8Array
  meta: StreetSceneMeta[]
}

function allocate(spec: StreetScenesSpec, split: StreetSceneSplit, start: number, count: number): StreetSceneBatch {
  const px = spec.height * spec.width
  return {
    split,
    start,
    count,
    height: spec.height,
    width: spec.width,
    images: new Float32Array(count * px * 3),
    labels: new Uint8Array(count * px),
    instances: new Uint8Array(count * px),
    meta: []
  }
}

function fill(batch: StreetSceneBatch, k: number, scene: StreetScene): void {
  const px = batch.height * batch.width
  const img = batch.images.subarray(k * px * 3, (k + 1) * px * 3)
  for (let i = 0; i < img.length; i++) img[i] = scene.image[i] / 255
  batch.labels.set(scene.label, k * px)
  batch.instances.set(scene.instances, k * px)
  batch.meta.push(scene.meta)
}

/**
 * Images [start, start + count) of a split, synchronously: what a training worker calls per batch. Indices past
 * the split's configured size are allowed (the stream is endless); the counts only size the written dataset.
 */
export function generateStreetSceneBatch(
  input: StreetScenesSpecInput | StreetScenesSpec,
  split: StreetSceneSplit,
  start: number,
  count: number
): StreetSceneBatch {
  const spec = parseStreetScenesSpec(input)
  const batch = allocate(spec, split, start, count)
  for (let k = 0; k < count; k++) fill(batch, k, streetSceneSample(spec, split, start + k))
  return batch
}

/** What a cancelled generation says (throwIfAborted in ../../cancellation). */
export const STREET_SCENES_CANCELLED = 'street-scene generation cancelled'

/** A whole split (or a range of it) in memory, yielding to the event loop so it can be cancelled. */
export async function generateStreetSceneArrays(
  input: StreetScenesSpecInput | StreetScenesSpec,
  split: StreetSceneSplit,
  hooks: StreetScenesHooks & { start?: number; count?: number } = {}
): Promise<StreetSceneBatch> {
  const spec = parseStreetScenesSpec(input)
  const start = hooks.start ?? 0
  const count = hooks.count ?? Math.max(0, spec.counts[split] - start)
  const batch = allocate(spec, split, start, count)
  for (let k = 0; k < count; k++) {
    if (k % 64 === 0) {
      await yieldToEventLoop()
      throwIfAborted(hooks.signal, STREET_SCENES_CANCELLED)
    }
    fill(batch, k, streetSceneSample(spec, split, start + k))
    hooks.onProgress?.({ split, done: k + 1, total: count })
  }
  return batch
}
