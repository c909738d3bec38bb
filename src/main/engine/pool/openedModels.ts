import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { descriptionPath } from '../../modelImport'
import { openSegmentationModel } from '../openModel'
import type { OpenedSegmentationModel } from '../segmentationModel'

/**
 * The folder's files with their sizes and modification times: an audit sends a task per batch, and hashing every
 * weight shard each time would re-read the whole model; a changed file changes this stamp, and loadModel then
 * verifies the new files' content hash.
 */
async function folderStamp(dir: string): Promise<string> {
  // An .onnx model is one file and its description beside it.
  if ((await stat(dir)).isFile()) {
    const files = [dir, descriptionPath(dir)]
    const stats = await Promise.all(files.map((f) => stat(f).catch(() => null)))
    return stats.map((s, i) => `${files[i]}:${s?.size}:${s?.mtimeMs}`).join('|')
  }
  const names = (await readdir(dir)).sort()
  const stats = await Promise.all(names.map((n) => stat(join(dir, n))))
  return names.map((n, i) => `${n}:${stats[i].size}:${stats[i].mtimeMs}`).join('|')
}

/**
 * Models opened through the runtime seam by location, one cache per worker, reopened when the files change. The
 * engine keeps it so every handler that opens a model (its own and the registered ones) shares the instances.
 */
export class OpenedModels {
  private readonly models = new Map<string, { hash: string; model: OpenedSegmentationModel }>()

  async open(location: string): Promise<OpenedSegmentationModel> {
    const hash = await folderStamp(location)
    const hit = this.models.get(location)
    if (hit && hit.hash === hash) return hit.model
    hit?.model.dispose()
    // Verified here, once per worker and model version: a model that does not fit its class list, does not output
    // probabilities or has no gradient path to its input is refused with its specific code.
    const model = await openSegmentationModel(location)
    this.models.set(location, { hash, model })
    return model
  }
}
