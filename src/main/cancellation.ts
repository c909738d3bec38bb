/**
 * Cooperative cancellation for long loops, on the main thread and in workers. A loop that stops because its
 * caller aborted throws AppError('CANCELLED') (not the platform's AbortError): the task registry turns that code
 * into a cancelled task, the job runner into a paused or cancelled job, and the adapters show its message, so
 * each caller says what was cancelled.
 */
import { AppError } from '@common/errors'

export function cancelledError(message = 'The task was cancelled'): AppError {
  return new AppError('CANCELLED', message)
}

export function throwIfAborted(signal: AbortSignal | undefined, message?: string): void {
  if (signal?.aborted) throw cancelledError(message)
}

/**
 * Lets queued work in (abort events, a worker's cancel message, IPC and HTTP requests, progress listeners) during
 * a long computation that is otherwise synchronous. setImmediate, not a microtask: only a macrotask lets I/O run.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
