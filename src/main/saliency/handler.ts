import { type EngineImage, type InputEncoding, withModelInputs } from '@common/rgbInput'
import type { FaithfulnessParams, SaliencyParams, SaliencyResult } from '@common/saliency'
import type { TaskHandler } from '../engine/pool/handler'
import { transferables } from '../engine/pool/protocol'
import { computeSaliency, type SaliencyRequest } from './index'

/**
 * Saliency's engine task, registered in src/main/engineHandlers.ts: the pool loads this module by path in each
 * worker, so the engine runs it without importing it, and this module sees only the handler seam
 * (engine/pool/handler.ts, protocol.ts) and the model interface its TaskContext opens.
 */

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

declare module '../engine/pool/protocol' {
  interface TaskMap {
    saliency: { payload: SaliencyPayload; result: SaliencyResult[]; progress: SaliencyProgress }
  }
}

/**
 * Grid/context saliency or VG/IG/SG for a share of the requests, with per-step progress and cancellation, and
 * the deletion faithfulness of each result when the payload asks for it. The
 * model comes through the runtime seam (ctx.openModel), so this handler runs on whatever runtime the engine picks.
 */
export const saliency: TaskHandler<SaliencyPayload, SaliencyResult[]> = async (p, ctx) => {
  const model = await ctx.openModel(p.modelDir)
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

/** What the engine's worker looks for in a registered handler module. */
export const handlers = { saliency }
