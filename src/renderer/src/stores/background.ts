import { defineStore } from 'pinia'
import { computed, reactive, watch } from 'vue'
import type { EventPayload } from '@common/contract'
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
}

const JOB_LABELS: Record<string, string> = { audit: 'Audit', benchmark: 'Benchmark', predict: 'Predictions' }

/**
 * What runs in the background, for every screen: long audits (the demo's first start builds one for a quarter of
 * an hour) must be visible outside the Jobs screen, or an interactive run that waits behind them looks stuck.
 * Running jobs come from the job list when a project opens and from job:progress pushes after that; tasks that are
 * not stored jobs (import, dataset generation, report) from task:progress. Interactive tasks (an explanation the
 * user waits for on the image screen) are shown where they were started, not here.
 */
export const useBackgroundStore = defineStore('background', () => {
  const app = useAppStore()
  const jobs = reactive(new Map<number, BackgroundItem>())
  const tasks = reactive(new Map<number, BackgroundItem>())

  function jobLabel(kind: string | undefined, jobId: number): string {
    return `${(kind && JOB_LABELS[kind]) ?? 'Job'} ${jobId}`
  }

  async function seed(): Promise<void> {
    jobs.clear()
    tasks.clear()
    if (!app.project) return
    try {
      for (const j of await api['jobs:list']({})) {
        if (j.state === 'running') jobs.set(j.id, { key: `job-${j.id}`, label: jobLabel(j.kind, j.id), done: j.done + j.failed, total: j.total, etaSeconds: null, jobId: j.id })
      }
    } catch {
      // The bar is a convenience; the Jobs screen reports list failures.
    }
  }

  function onJob(p: EventPayload<'job:progress'>): void {
    if (p.state !== 'running') {
      jobs.delete(p.jobId)
      return
    }
    const known = jobs.get(p.jobId)
    jobs.set(p.jobId, {
      key: `job-${p.jobId}`,
      label: known?.label ?? jobLabel(undefined, p.jobId),
      done: p.done + p.failed,
      total: p.total,
      etaSeconds: p.etaSeconds,
      jobId: p.jobId
    })
    // A job first heard of by push (started after the list was read): its kind comes with the next list.
    if (!known) void refreshKinds()
  }

  async function refreshKinds(): Promise<void> {
    if (!app.project) return
    try {
      for (const j of await api['jobs:list']({})) {
        const item = jobs.get(j.id)
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
  watch(() => app.project?.path ?? null, () => void seed(), { immediate: true })

  const items = computed<BackgroundItem[]>(() => [...jobs.values(), ...tasks.values()])
  return { items, seed }
})
