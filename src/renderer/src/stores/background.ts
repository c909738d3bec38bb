import { defineStore } from 'pinia'
import { computed, reactive, watch } from 'vue'
import type { EventPayload } from '@common/contract'
import type { JobScope } from '@common/types'
import { api, transport } from '../api/client'
import { useAppStore } from './app'

/** One line of background work in the shell: a stored job (audit) or a task that is not a stored job. */
export interface BackgroundItem {
  key: string
  label: string
  done: number
  total: number
  etaSeconds: number | null
  jobId?: number
  scope?: JobScope
}

const JOB_LABELS: Record<string, string> = { audit: 'Audit', benchmark: 'Benchmark', predict: 'Predictions' }

/**
 * What runs in the background, for every screen: long audits (the demo's first start builds one for a quarter of
 * an hour) and benchmark runs must be visible outside the screens that started them, or an interactive run that
 * waits behind them looks stuck.
 * Running jobs come from the job list when a project opens and from job:progress pushes after that; tasks that are
 * not stored jobs (import, dataset generation, report) from task:progress. Interactive tasks (an explanation the
 * user waits for on the image screen) are shown where they were started, not here.
 */
export const useBackgroundStore = defineStore('background', () => {
  const app = useAppStore()
  const jobs = reactive(new Map<string, BackgroundItem>())
  const tasks = reactive(new Map<number, BackgroundItem>())

  function jobLabel(kind: string | undefined, jobId: number): string {
    return `${(kind && JOB_LABELS[kind]) ?? 'Job'} ${jobId}`
  }

  /** Job ids are numbered per store (the project's, the app's own): the key names both. */
  const jobKey = (scope: JobScope | undefined, jobId: number): string => `job-${scope ?? 'project'}-${jobId}`

  async function seed(): Promise<void> {
    jobs.clear()
    tasks.clear()
    try {
      // Also without a project: the app's own jobs (benchmark runs) need none.
      for (const j of await api['jobs:list']({})) {
        const key = jobKey(j.scope, j.id)
        if (j.state === 'running') jobs.set(key, { key, label: jobLabel(j.kind, j.id), done: j.done + j.failed, total: j.total, etaSeconds: null, jobId: j.id, scope: j.scope })
      }
    } catch {
      // The bar is a convenience; the Jobs screen reports list failures.
    }
  }

  function onJob(p: EventPayload<'job:progress'>): void {
    const key = jobKey(p.scope, p.jobId)
    if (p.state !== 'running') {
      jobs.delete(key)
      return
    }
    const known = jobs.get(key)
    jobs.set(key, {
      key,
      label: p.kind ? jobLabel(p.kind, p.jobId) : (known?.label ?? jobLabel(undefined, p.jobId)),
      done: p.done + p.failed,
      total: p.total,
      etaSeconds: p.etaSeconds,
      jobId: p.jobId,
      scope: p.scope ?? 'project'
    })
    // A job first heard of by push (started after the list was read) without its kind: it comes with the next list.
    if (!known && !p.kind) void refreshKinds()
  }

  async function refreshKinds(): Promise<void> {
    try {
      for (const j of await api['jobs:list']({})) {
        const item = jobs.get(jobKey(j.scope, j.id))
        if (item) item.label = jobLabel(j.kind, j.id)
      }
    } catch {
      // See seed().
    }
  }

  function onTask(p: EventPayload<'task:progress'>): void {
    // A task that runs a stored job is shown as that job, with its rate and ETA.
    if (p.interactive || p.jobId !== undefined || p.state !== 'running') {
      tasks.delete(p.taskId)
      return
    }
    tasks.set(p.taskId, { key: `task-${p.taskId}`, label: p.message ? `${p.label}: ${p.message}` : p.label, done: p.done, total: p.total, etaSeconds: null })
  }

  transport.onEvent((e) => {
    if (e.event === 'job:progress') onJob(e.payload)
    else if (e.event === 'task:progress') onTask(e.payload)
  })
  // Once the app has said which project is open (none is an answer too: the app's own jobs need none), and on every change.
  watch(
    () => (app.ready ? (app.project?.path ?? '') : null),
    (key) => {
      if (key !== null) void seed()
    },
    { immediate: true }
  )

  const items = computed<BackgroundItem[]>(() => [...jobs.values(), ...tasks.values()])
  return { items, seed }
})
