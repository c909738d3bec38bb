import type { TransferListItem } from 'node:worker_threads'
import type * as tf from '@tensorflow/tfjs'
import type { BackendInfo } from '../backend'
import type { OpenedSegmentationModel } from '../segmentationModel'
import type { ModelRef } from './modelCache'

/** What a task handler gets besides its payload. */
export interface TaskContext {
  readonly signal: AbortSignal
  readonly backend: BackendInfo
  /** Pool slot of this worker. */
  readonly slot: number
  /** Sends a progress event to the caller's onProgress; listed buffers move instead of being copied. */
  progress(data: unknown, transfer?: TransferListItem[]): void
  /**
   * Lets queued messages (a cancel) reach this worker and throws CANCELLED once the task was cancelled.
   * tfjs kernels run synchronously, so a handler that never awaits this cannot be cancelled short of termination.
   */
  checkpoint(): Promise<void>
  /** Built model for a reference, cached across tasks by key; do not dispose it. */
  loadModel(ref: ModelRef): Promise<tf.LayersModel>
  /**
   * A model location (folder or described .onnx file) opened through the runtime seam, on whichever runtime it
   * needs; cached per worker until its files change. Do not dispose it.
   */
  openModel(location: string): Promise<OpenedSegmentationModel>
  /** Worker-lifetime storage for handlers that keep state between tasks (training sessions). */
  readonly state: Map<string, unknown>
}

/**
 * What a worker runs tasks with. Handler modules outside the engine (src/main/engineHandlers.ts lists them) see
 * only this module and protocol.ts: the engine hosts them without importing them.
 *
 * A task handler. The typed-array buffers in its result are transferred back to the caller, not copied, so a
 * handler must not keep using (or return views into) buffers it still needs.
 */
export type TaskHandler<P = any, R = any> = (payload: P, ctx: TaskContext) => Promise<R> | R

export type HandlerRegistry = Record<string, TaskHandler>
