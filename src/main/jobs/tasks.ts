import type { EventPayload } from '@common/contract'
import { AppError } from '@common/errors'

/** Where task progress goes (the services' EventBus, which pushes it to every adapter). */
export interface TaskEvents {
  emit(event: 'task:progress', payload: EventPayload<'task:progress'>): void
}

export interface TaskHandle {
  signal: AbortSignal
  /** jobId: the stored job this progress is of, which has job:progress events of its own. */
  progress(done: number, total: number, message?: string, jobId?: number): void
}

/**
 * Long work that is not a stored job (generating a dataset, a single explanation): each run gets an id, an
 * AbortSignal and progress events, so every adapter can show a bar and offer cancel the same way.
 */
export class TaskRegistry {
  private next = 1
  private readonly running = new Map<number, { label: string; controller: AbortController }>()

  constructor(private readonly events: TaskEvents) {}

  async run<T>(label: string, body: (task: TaskHandle) => Promise<T>, options: { interactive?: boolean } = {}): Promise<T> {
    const id = this.next++
    const controller = new AbortController()
    this.running.set(id, { label, controller })
    let last: { done: number; total: number; jobId?: number } = { done: 0, total: 0 }
    const emit = (state: 'running' | 'done' | 'failed' | 'cancelled', message?: string): void =>
      this.events.emit('task:progress', {
        taskId: id,
        label,
        state,
        done: last.done,
        total: last.total,
        ...(message ? { message } : {}),
        ...(last.jobId !== undefined ? { jobId: last.jobId } : {}),
        ...(options.interactive ? { interactive: true } : {})
      })
    emit('running')
    try {
      const result = await body({
        signal: controller.signal,
        progress: (done, total, message, jobId) => {
          last = { done, total, ...(jobId !== undefined ? { jobId } : {}) }
          emit('running', message)
        }
      })
      emit('done')
      return result
    } catch (err) {
      const cancelled = controller.signal.aborted || (err instanceof AppError && err.code === 'CANCELLED')
      emit(cancelled ? 'cancelled' : 'failed', err instanceof Error ? err.message : String(err))
      throw err
    } finally {
      this.running.delete(id)
    }
  }

  cancel(id: number): boolean {
    const task = this.running.get(id)
    task?.controller.abort()
    return task !== undefined
  }

  cancelAll(): void {
    for (const t of this.running.values()) t.controller.abort()
  }

  list(): { taskId: number; label: string }[] {
    return [...this.running.entries()].map(([taskId, t]) => ({ taskId, label: t.label }))
  }
}
