import type { ErrorShape } from '@common/errors'
import type { BackendInfo } from '../backend'

/**
 * Messages between the EnginePool (main side) and its worker threads. Everything here must survive structured
 * clone; large numeric payloads travel as typed arrays whose buffers are listed as transferables so they move
 * instead of being copied.
 */

/** What every worker receives at start (as workerData). */
export interface WorkerInit {
  /** Backend forced for this worker ('auto' or undefined: initBackend's usual preference order). */
  backend?: string
  /** Extra handler modules (file URLs) imported after the built-in registry; each exports `handlers`. */
  handlerModules: string[]
  /** Index of the pool slot, for logs and for handlers that shard work deterministically. */
  slot: number
  /** ONNX Runtime intra-op threads for sessions opened in this worker. */
  onnxThreads?: number
}

export type MainToWorker =
  | { kind: 'task'; id: number; type: string; payload: unknown }
  | { kind: 'cancel'; id: number }

export type WorkerToMain =
  | { kind: 'ready'; backend: BackendInfo; handlerTypes: string[] }
  | { kind: 'initError'; error: ErrorShape }
  | { kind: 'progress'; id: number; data: unknown }
  | { kind: 'result'; id: number; result: unknown }
  | { kind: 'error'; id: number; error: ErrorShape }

/**
 * Typed task catalogue. Handler modules extend it by declaration merging:
 *   declare module '@main/engine/pool/protocol' { interface TaskMap { myTask: { payload: P; result: R; progress: G } } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TaskMap {}

export type TaskType = keyof TaskMap & string
export type PayloadOf<K extends TaskType> = TaskMap[K] extends { payload: infer P } ? P : unknown
export type ResultOf<K extends TaskType> = TaskMap[K] extends { result: infer R } ? R : unknown
export type ProgressOf<K extends TaskType> = TaskMap[K] extends { progress: infer G } ? G : unknown

/**
 * The buffers behind every typed array / ArrayBuffer found in `values` (searched through plain objects and arrays),
 * without duplicates. Transferring detaches them on the sending side, so only list what the sender gives away.
 */
export function transferables(...values: unknown[]): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>()
  const seen = new Set<object>()
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer && v.buffer.byteLength > 0) found.add(v.buffer)
      return
    }
    if (v instanceof ArrayBuffer) {
      if (v.byteLength > 0) found.add(v)
      return
    }
    if (seen.has(v)) return
    seen.add(v)
    if (Array.isArray(v)) for (const x of v) visit(x)
    else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) visit(x)
  }
  for (const v of values) visit(v)
  return [...found]
}
