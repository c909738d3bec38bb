import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AppError } from '@common/errors'
import {
  STREET_SCENE_CLASSES,
  STREET_SCENE_IGNORE_ID,
  STREET_SCENE_SPLITS,
  StreetScenesWriteOptionsSchema,
  type StreetScenesSummary,
  type StreetScenesWriteOptionsInput
} from '@common/streetScenes'
import { throwIfAborted, yieldToEventLoop } from '../../cancellation'
import { STREET_SCENES_CANCELLED, streetSceneSample, type StreetScenesHooks } from './batch'
import { ensureEmptyDir, writeGrayPng, writeRgbPng } from '../datasetFolder'

/**
 * The dataset on disk, in the generic folder layout the folder reader imports:
 *   classes.json                    { classes: [{ id, name, color }], ignoreIds: [255] }
 *   images/<split>/NNNNN.png        RGB
 *   labels/<split>/NNNNN.png        8-bit class ids 0–9
 *   instances/<split>/NNNNN.png     8-bit instance ids (0 = stuff), matching meta objects' `instance`
 *   meta/<split>/NNNNN.json         the scene's objects, hidden-bicycle riders, geometry
 *   dataset.json                    format, options, counts; written last, so a folder without it is an interrupted run
 */
export const STREET_SCENES_FORMAT = 'street-scenes'
export const STREET_SCENES_FORMAT_VERSION = 1
const IN_FLIGHT = 8

export const streetSampleName = (index: number): string => String(index).padStart(5, '0')

export async function writeStreetScenes(input: StreetScenesWriteOptionsInput, hooks: StreetScenesHooks = {}): Promise<StreetScenesSummary> {
  const parsed = StreetScenesWriteOptionsSchema.safeParse(input)
  if (!parsed.success) throw new AppError('INVALID_PARAMETERS', 'invalid street-scene options', parsed.error.issues)
  const { outDir, ...spec } = parsed.data
  const started = performance.now()
  await ensureEmptyDir(outDir)
  const classesJson = { classes: STREET_SCENE_CLASSES, ignoreIds: [STREET_SCENE_IGNORE_ID] }
  await writeFile(join(outDir, 'classes.json'), JSON.stringify(classesJson, null, 2))

  const total = STREET_SCENE_SPLITS.reduce((n, s) => n + spec.counts[s], 0)
  const counts = { train: 0, val: 0, test: 0 }
  const riders = { train: 0, val: 0, test: 0 }
  const hiddenBicycleRiders = { train: 0, val: 0, test: 0 }
  let done = 0
  const { width, height } = spec
  for (const split of STREET_SCENE_SPLITS) {
    const dirs = ['images', 'labels', 'instances', 'meta'].map((d) => join(outDir, d, split))
    for (const d of dirs) await mkdir(d, { recursive: true })
    const [imgDir, labelDir, instDir, metaDir] = dirs
    const pending = new Set<Promise<void>>()
    for (let i = 0; i < spec.counts[split]; i++) {
      throwIfAborted(hooks.signal, STREET_SCENES_CANCELLED)
      const scene = streetSceneSample(spec, split, i)
      const name = streetSampleName(i)
      const job: Promise<void> = Promise.all([
        writeRgbPng(join(imgDir, `${name}.png`), scene.image, width, height),
        writeGrayPng(join(labelDir, `${name}.png`), scene.label, width, height),
        writeGrayPng(join(instDir, `${name}.png`), scene.instances, width, height),
        writeFile(join(metaDir, `${name}.json`), JSON.stringify(scene.meta))
      ]).then(() => {
        pending.delete(job)
        done++
        hooks.onProgress?.({ split, done, total })
      })
      pending.add(job)
      counts[split]++
      riders[split] += scene.meta.riders
      hiddenBicycleRiders[split] += scene.meta.hiddenBicycleRiders
      if (pending.size >= IN_FLIGHT) await Promise.race(pending)
      else if (i % 64 === 63) await yieldToEventLoop()
    }
    await Promise.all(pending)
  }
  throwIfAborted(hooks.signal, STREET_SCENES_CANCELLED)

  const dataset = {
    format: STREET_SCENES_FORMAT,
    version: STREET_SCENES_FORMAT_VERSION,
    splitLayout: 'folders',
    width,
    height,
    options: spec,
    counts,
    riders,
    hiddenBicycleRiders,
    classes: STREET_SCENE_CLASSES,
    ignoreIds: [STREET_SCENE_IGNORE_ID],
    folders: { images: 'images', labels: 'labels', instances: 'instances', meta: 'meta' }
  }
  await writeFile(join(outDir, 'dataset.json'), JSON.stringify(dataset, null, 2))
  return { outDir, counts, durationMs: performance.now() - started }
}
