import { getCurrentScope, onScopeDispose, ref } from 'vue'
import type { Input } from '@common/contract'
import type { ExplanationView } from '@common/methods/viewer'
import { isAppError } from '@common/errors'
import { api, transport } from '../api/client'
import { useAppStore } from '../stores/app'

export interface RunProgress {
  done: number
  total: number
  message?: string
}

export interface SaliencyRunOptions {
  /** Takes the stored explanation before the run counts as finished, so the screen never shows neither. */
  onResult: (result: ExplanationView) => void
}

/**
 * One explanation run of the image view at a time: start it, follow its task's progress, cancel it. A cancel is the
 * user's choice, not a failure: it becomes a status line beside the button; other errors go to the app's banner.
 */
export function useSaliencyRun(options: SaliencyRunOptions) {
  const app = useAppStore()
  const running = ref(false)
  const status = ref<string | null>(null)
  const taskId = ref<number | null>(null)
  const progress = ref<RunProgress | null>(null)

  // The services announce an explanation's task only through progress events: the first one names the task to cancel.
  const offEvents = transport.onEvent((e) => {
    if (e.event !== 'task:progress' || !running.value || !e.payload.label.startsWith('explain ')) return
    if (e.payload.state === 'running') {
      taskId.value = e.payload.taskId
      progress.value = { done: e.payload.done, total: e.payload.total, ...(e.payload.message ? { message: e.payload.message } : {}) }
    }
  })
  if (getCurrentScope()) onScopeDispose(offEvents)

  async function start(input: Input<'explain:segment'>): Promise<void> {
    if (running.value) return
    running.value = true
    status.value = null
    progress.value = { done: 0, total: 0 }
    try {
      options.onResult(await api['explain:segment'](input))
      app.error = null
    } catch (err) {
      if (isAppError(err, 'CANCELLED')) status.value = 'Cancelled; nothing was stored.'
      else app.report(err)
    } finally {
      running.value = false
      taskId.value = null
      progress.value = null
    }
  }

  async function cancel(): Promise<void> {
    if (taskId.value !== null) await api['tasks:cancel']({ taskId: taskId.value })
  }

  return { running, status, taskId, progress, start, cancel }
}
