import type { SaliencyParams, SaliencyResult } from '@common/saliency'
import { computeSaliency, type SaliencyRequest } from '../../../saliency'
import { contentHash, loadModel } from '../../modelFiles'
import { predictLabelMaps, prepareForSaliency, type PreparedModel } from '../../segmentationModel'
import type { TaskContext, TaskHandler } from '../handler'

export interface SaliencyPayload {
  /** A model folder (tfjs files + ctxlens.model.json); read and prepared once per worker. */
  modelDir: string
  requests: SaliencyRequest[]
  params: SaliencyParams
  maxBatch?: number
}

export interface LabelsPayload {
  modelDir: string
  images: Float32Array
  shape: [number, number, number, number]
}

declare module '../protocol' {
  interface TaskMap {
    saliency: { payload: SaliencyPayload; result: SaliencyResult[]; progress: { step: number; steps: number } }
    labels: { payload: LabelsPayload; result: Uint16Array; progress: never }
  }
}

/** Prepared models by folder, reloaded when the files' hash changes; one per worker. */
async function preparedModel(ctx: TaskContext, dir: string): Promise<PreparedModel> {
  const cache = (ctx.state.get('saliency.models') as Map<string, { hash: string; model: PreparedModel }> | undefined) ?? new Map()
  ctx.state.set('saliency.models', cache)
  const hash = await contentHash(dir)
  const hit = cache.get(dir)
  if (hit && hit.hash === hash) return hit.model
  hit?.model.dispose()
  // The main side verified the model before sending work; no need to probe it again in every worker.
  const loaded = await loadModel(dir, { verify: { shape: false, probabilities: false, gradient: false } })
  const model = prepareForSaliency(loaded)
  cache.set(dir, { hash, model })
  return model
}

/** Grid/context saliency or VG/IG/SG for a share of the requests, with per-step progress and cancellation. */
export const saliency: TaskHandler<SaliencyPayload, SaliencyResult[]> = async (p, ctx) => {
  const model = await preparedModel(ctx, p.modelDir)
  return computeSaliency(model, p.requests, p.params, {
    signal: ctx.signal,
    maxBatch: p.maxBatch,
    onProgress: (step, steps) => ctx.progress({ step, steps })
  })
}

export const labels: TaskHandler<LabelsPayload, Uint16Array> = async (p, ctx) => {
  const model = await preparedModel(ctx, p.modelDir)
  return predictLabelMaps(model, p.images, p.shape)
}
