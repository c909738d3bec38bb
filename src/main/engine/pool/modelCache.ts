import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import { loadModelArtifacts } from '../modelFiles/fsHandler'

/**
 * How a model reaches a worker. Artifacts are plain data (topology JSON + weight buffer) and survive structured
 * clone; a directory is read inside the worker so the bytes never pass through the main thread.
 * `key` lets a worker reuse the model it already built for an earlier task with the same key; give a new key
 * whenever the weights change.
 */
export type ModelRef = { kind: 'artifacts'; key?: string; artifacts: tf.io.ModelArtifacts } | { kind: 'dir'; path: string }

/** The artifacts of an in-memory model, e.g. to send it to workers. */
export async function modelToArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | null = null
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    })
  )
  if (!captured) throw new AppError('INTERNAL', 'model.save did not produce artifacts')
  return captured
}

export function artifactsRef(artifacts: tf.io.ModelArtifacts, key?: string): ModelRef {
  return key === undefined ? { kind: 'artifacts', artifacts } : { kind: 'artifacts', key, artifacts }
}

export async function loadModelFromArtifacts(artifacts: tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts))
  } catch (err) {
    throw new AppError('MODEL_FILE_INVALID', `Cannot build the model: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/**
 * Worker-side cache of built models. Building a layers model costs far more than the structured-clone copy of its
 * artifacts, so tasks carrying the same key reuse one instance. Small LRU: models hold backend memory.
 */
export class ModelCache {
  private readonly entries = new Map<string, tf.LayersModel>()
  constructor(private readonly capacity = 4) {}

  /** Returns the model and whether the caller owns it (uncached models must be disposed by the caller). */
  async get(ref: ModelRef): Promise<{ model: tf.LayersModel; owned: boolean }> {
    const key = await this.keyOf(ref)
    if (key !== null) {
      const hit = this.entries.get(key)
      if (hit) {
        this.entries.delete(key)
        this.entries.set(key, hit)
        return { model: hit, owned: false }
      }
    }
    const artifacts = ref.kind === 'dir' ? await loadModelArtifacts(ref.path) : ref.artifacts
    const model = await loadModelFromArtifacts(artifacts)
    if (key === null) return { model, owned: true }
    this.entries.set(key, model)
    while (this.entries.size > this.capacity) {
      const [oldKey, old] = this.entries.entries().next().value as [string, tf.LayersModel]
      this.entries.delete(oldKey)
      old.dispose()
    }
    return { model, owned: false }
  }

  private async keyOf(ref: ModelRef): Promise<string | null> {
    if (ref.kind === 'artifacts') return ref.key === undefined ? null : `mem:${ref.key}`
    // The modification time keeps a directory overwritten in place (retrained model) from hitting a stale entry.
    const s = await stat(join(ref.path, 'model.json')).catch(() => null)
    return s ? `dir:${ref.path}:${s.mtimeMs}` : null
  }

  clear(): void {
    for (const m of this.entries.values()) m.dispose()
    this.entries.clear()
  }
}
