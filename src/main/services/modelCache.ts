import { contentHash, loadModel, type LoadedModel } from '../engine/modelFiles'
import { initBackend } from '../engine/backend'

/**
 * Loading and verifying a model costs seconds; keep loaded models by folder, and reload when the files on disk
 * changed (their content hash differs from the one loaded).
 */
export class ModelCache {
  private readonly loaded = new Map<string, { hash: string; model: LoadedModel }>()

  constructor(private readonly backend: { flag?: string } = {}) {}

  async load(dir: string): Promise<LoadedModel> {
    await initBackend(this.backend)
    const hash = await contentHash(dir)
    const hit = this.loaded.get(dir)
    if (hit && hit.hash === hash) return hit.model
    hit?.model.dispose()
    const model = await loadModel(dir)
    this.loaded.set(dir, { hash, model })
    return model
  }

  clear(): void {
    for (const { model } of this.loaded.values()) model.dispose()
    this.loaded.clear()
  }
}
