import type { ModelSidecar } from '@common/modelSidecar'
import type { FaithfulnessParams, SaliencyParams, SaliencyResult } from '@common/saliency'
import type { SaliencyProgress } from '../saliency/handler'
import { splitRanges, type EnginePool, type PoolLoad, type TaskPriority } from '../engine/pool/pool'
import type { SaliencyRequest } from '../saliency'
import { type EngineImage, inputEncoding } from '@common/rgbInput'

export interface RunHooks {
  signal?: AbortSignal
  onProgress?: (step: number, steps: number) => void
  /** Called when the work is queued behind other work (with what occupies the pool) and when it starts. */
  onQueued?: (load: PoolLoad) => void
  onStart?: () => void
}

/**
 * A request as the engine takes it: the image as stored RGB (sent as is, a quarter of the bytes, and converted in
 * the worker) or already in the model's input units.
 */
export type EngineRequest = Omit<SaliencyRequest, 'image'> & { image: EngineImage }

export interface SaliencyHooks extends RunHooks {
  /**
   * Each result as soon as it is computed (index into the requests), before the others are: a job commits it at
   * once, so a killed process loses only what was still being computed.
   */
  onResult?: (index: number, result: SaliencyResult) => void
}

/**
 * Where explanations are computed: spread over the engine's worker threads, so nothing heavy runs on the
 * Electron main thread or blocks the server.
 */
export interface SaliencyEngine {
  sidecar: ModelSidecar
  labels(image: { data: Float32Array; height: number; width: number; channels: number }, hooks?: RunHooks): Promise<Uint16Array>
  saliency(requests: EngineRequest[], params: SaliencyParams, hooks?: SaliencyHooks): Promise<SaliencyResult[]>
}

/**
 * Requests are split into one contiguous share per worker; progress is the sum of the shares' steps.
 * `priority: 'interactive'` is for a user waiting at the screen: such work overtakes queued batch work.
 * `faithfulness` adds the deletion check to every result, computed by the worker that made the explanation.
 * `upsample` has the workers send each map at image size too, for callers that use it (figures, metrics on
 * pixels); the others get the low-resolution mask alone, a fraction of the bytes.
 */
export function poolEngine(
  pool: EnginePool,
  modelDir: string,
  sidecar: ModelSidecar,
  options: { priority?: TaskPriority; faithfulness?: FaithfulnessParams; upsample?: boolean } = {}
): SaliencyEngine {
  const { priority = 'background', faithfulness, upsample = false } = options
  return {
    sidecar,
    labels: (image, hooks = {}) =>
      pool.run(
        { type: 'labels', payload: { modelDir, images: image.data, shape: [1, image.height, image.width, image.channels] } },
        { signal: hooks.signal, priority }
      ),
    saliency: async (requests, params, hooks = {}) => {
      const parts = Math.min(pool.size, requests.length)
      const load = pool.load()
      const waits =
        load.busy >= load.workers || load.queued.interactive > 0 || (priority === 'background' && load.queued.background > 0)
      if (waits) hooks.onQueued?.(load)
      const ranges = splitRanges(requests.length, parts)
      const progress = new Array<{ step: number; steps: number }>(parts).fill({ step: 0, steps: 0 })
      const stream = hooks.onResult !== undefined
      const streamed = new Array<SaliencyResult>(requests.length)
      const shares = await pool.split<SaliencyResult[], SaliencyProgress>(
        'saliency',
        requests.length,
        (r) => ({ payload: { modelDir, requests: requests.slice(r.start, r.end), encoding: inputEncoding(sidecar), params, stream, upsample, ...(faithfulness ? { faithfulness } : {}) } }),
        {
          parts,
          signal: hooks.signal,
          priority,
          onStart: hooks.onStart,
          onProgress: ({ index, data }) => {
            if ('results' in data) {
              data.indices.forEach((i, k) => {
                const at = ranges[index].start + i
                streamed[at] = data.results[k]
                hooks.onResult?.(at, data.results[k])
              })
              return
            }
            progress[index] = data
            hooks.onProgress?.(
              progress.reduce((a, p) => a + p.step, 0),
              progress.reduce((a, p) => a + p.steps, 0)
            )
          }
        }
      )
      return stream ? streamed : shares.flat()
    }
  }
}

/** Why an interactive run has not started: what holds the workers, and that this run goes next. */
export function queuedMessage(load: PoolLoad): string {
  const ahead = load.queued.interactive
  if (ahead > 0) return `Waiting for a worker: ${ahead} interactive run${ahead === 1 ? '' : 's'} ahead of this one`
  const busy = `${load.busy === 1 && load.workers === 1 ? 'the only worker is' : `all ${load.workers} workers are`}`
  return `Waiting for a worker: ${busy} busy with background work (see Jobs); this run goes first when one is free`
}
