import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { type EngineImage, type InputEncoding, withModelInputs } from '@common/rgbInput'
import type { FaithfulnessParams, SaliencyParams, SaliencyResult } from '@common/saliency'
import { descriptionPath } from '../../../modelImport'
import { computeSaliency, type SaliencyRequest } from '../../../saliency'
import { openSegmentationModel } from '../../openModel'
import { type OpenedSegmentationModel, predictLabelMaps } from '../../segmentationModel'
import type { TaskContext, TaskHandler } from '../handler'
import { transferables } from '../protocol'

export interface SaliencyPayload {
  /** A model folder (model files + ctxlens.model.json); opened once per worker. */
  modelDir: string
  /** Images as 8-bit RGB (converted here with `encoding`) or already in the model's input units. */
  requests: (Omit<SaliencyRequest, 'image'> & { image: EngineImage })[]
  encoding?: InputEncoding
  params: SaliencyParams
  maxBatch?: number
  /**
   * Send each batch's results as progress as soon as it is done, and return none at the end: a job stores them
   * while the rest of the share still runs.
   */
  stream?: boolean
  /** Run the deletion check on each result too, here in the worker, beside the explanation it measures. */
  faithfulness?: FaithfulnessParams
  /** Send each map upsampled to its image as well; by default only the low-resolution mask crosses back. */
  upsample?: boolean
}

/** Per-step progress, or (streaming) the finished results of one batch with their indices in the share. */
export type SaliencyProgress = { step: number; steps: number } | { indices: number[]; results: SaliencyResult[] }

export interface LabelsPayload {
  modelDir: string
  images: Float32Array
  shape: [number, number, number, number]
}

declare module '../protocol' {
  interface TaskMap {
    saliency: { payload: SaliencyPayload; result: SaliencyResult[]; progress: SaliencyProgress }
    labels: { payload: LabelsPayload; result: Uint16Array; progress: never }
    probabilities: { payload: LabelsPayload; result: Float32Array; progress: never }
  }
}

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

/** Opened models by folder, reopened when the folder's files change; one per worker. */
async function openedModel(ctx: TaskContext, dir: string): Promise<OpenedSegmentationModel> {
  const cache = (ctx.state.get('saliency.models') as Map<string, { hash: string; model: OpenedSegmentationModel }> | undefined) ?? new Map()
  ctx.state.set('saliency.models', cache)
  const hash = await folderStamp(dir)
  const hit = cache.get(dir)
  if (hit && hit.hash === hash) return hit.model
  hit?.model.dispose()
  // Verified here, once per worker and model version: a model that does not fit its class list, does not output
  // probabilities or has no gradient path to its input is refused with its specific code.
  const model = await openSegmentationModel(dir)
  cache.set(dir, { hash, model })
  return model
}

/**
 * Grid/context saliency or VG/IG/SG for a share of the requests, with per-step progress and cancellation, and
 * the deletion faithfulness of each result when the payload asks for it. The
 * model comes through the runtime seam, so this handler runs on whatever runtime openSegmentationModel picks.
 */
export const saliency: TaskHandler<SaliencyPayload, SaliencyResult[]> = async (p, ctx) => {
  const model = await openedModel(ctx, p.modelDir)
  const results = await computeSaliency(model, withModelInputs(p.requests, p.encoding), p.params, {
    signal: ctx.signal,
    maxBatch: p.maxBatch,
    faithfulness: p.faithfulness,
    upsample: p.upsample === true,
    onProgress: (step, steps) => ctx.progress({ step, steps } satisfies SaliencyProgress),
    // Given away: the streamed results are not returned again.
    onResults: p.stream ? (indices, batch) => ctx.progress({ indices, results: batch } satisfies SaliencyProgress, transferables(batch)) : undefined
  })
  return p.stream ? [] : results
}

export const labels: TaskHandler<LabelsPayload, Uint16Array> = async (p, ctx) => {
  const model = await openedModel(ctx, p.modelDir)
  return predictLabelMaps(model, p.images, p.shape)
}

/** Per-pixel class probabilities [n, H, W, K] of a registered model through the seam (audits of ONNX models). */
export const probabilities: TaskHandler<LabelsPayload, Float32Array> = async (p, ctx) => {
  const model = await openedModel(ctx, p.modelDir)
  const [batch, height, width, channels] = p.shape
  return model.predict(p.images, { batch, height, width, channels })
}
