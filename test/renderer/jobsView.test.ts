// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import type { AnyEvent, Bridge, EventPayload, Reply } from '@common/contract'
import type { JobListItem } from '@common/methods/core'
import type { JobSummary } from '@common/types'

type Call = { method: string; input: Record<string, unknown> }

const project = {
  path: '/tmp/p.ctxlens', name: 'p', schemaVersion: 1, createdAt: '2026-01-01T00:00:00Z',
  counts: { datasets: 1, images: 1, models: 1, explanations: 0, bookmarks: 0, jobs: 1 }
}
const info = {
  appName: 'Context Lens', appVersion: '0.1.0', nodeVersion: '20', platform: 'linux-x64', transport: 'electron',
  backend: { name: 'cpu', tfBackend: 'cpu', skipped: [] }, onnxRuntime: { available: true, version: '1.30.0', provider: 'cpu', providers: ['cpu'] }, project
}
const job = (over: Partial<JobListItem> = {}): JobListItem => ({
  id: 7, kind: 'audit', scope: 'project', state: 'running', done: 10, failed: 1, total: 100,
  createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', error: null,
  subject: { dataset: 'Cityscapes val', model: 'lraspp-mobilenetv3', classes: ['rider', 'person'], method: 'context', preset: 'cityscapes' }, ...over
})

/**
 * A fake preload bridge: `handle` answers the methods under test, `push` delivers an engine event to every
 * renderer listener (the app store's and the Jobs screen's) the way the real bridge does.
 */
async function mountJobs(handle: (method: string, input: Record<string, unknown>) => Reply<unknown> | undefined, options: { project?: boolean } = {}) {
  const calls: Call[] = []
  const open = options.project ?? true
  const listeners = new Set<(e: AnyEvent) => void>()
  const bridge: Bridge = {
    invoke: async (method, input) => {
      const i = (input ?? {}) as Record<string, unknown>
      calls.push({ method, input: i })
      if (method === 'app:info') return { ok: true, result: { ...info, project: open ? project : null } }
      if (method === 'project:current') return { ok: true, result: open ? project : null }
      return handle(method, i) ?? { ok: false, error: { code: 'UNKNOWN_METHOD', message: method } }
    },
    onEvent: (l) => {
      listeners.add(l)
      return () => listeners.delete(l)
    }
  }
  window.ctxlens = bridge
  vi.resetModules()
  const { default: App } = await import('@renderer/App.vue')
  const { router } = await import('@renderer/router')
  setActivePinia(createPinia())
  const wrapper = mount(App, { global: { plugins: [router] } })
  await router.push('/jobs')
  await router.isReady()
  await flushPromises()
  await flushPromises()
  const push = async (payload: EventPayload<'job:progress'>): Promise<void> => {
    listeners.forEach((l) => l({ event: 'job:progress', payload }))
    await flushPromises()
  }
  const count = (method: string): number => calls.filter((c) => c.method === method).length
  return { wrapper, calls, push, count }
}

describe('jobs screen', () => {
  it('keeps the empty state when there are no jobs', async () => {
    const { wrapper } = await mountJobs((m) => (m === 'jobs:list' ? { ok: true, result: [] } : undefined))
    expect(wrapper.find('[data-testid="empty-jobs"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="jobs"]').exists()).toBe(false)
  })

  it('shows live progress, rate and ETA, pauses, and lists item failures when expanded', async () => {
    let state: JobSummary['state'] = 'running'
    const { wrapper, calls, push, count } = await mountJobs((m) => {
      if (m === 'jobs:list') return { ok: true, result: [job({ state })] }
      if (m === 'audit:pause') return { ok: true, result: job({ state: 'paused' }) }
      if (m === 'audit:job') {
        return {
          ok: true,
          result: {
            ...job(), params: {}, running: true,
            failures: [
              { itemKey: 'seg:12', code: 'EXPLAIN_FAILED', message: 'mask is empty' },
              { itemKey: 'seg:40', code: null, message: 'worker crashed' }
            ]
          }
        }
      }
      return undefined
    })
    const row = () => wrapper.get('[data-testid="job-7"]')
    expect(row().get('[data-testid="job-done"]').text()).toBe('10')
    expect(row().get('[data-testid="job-eta"]').text()).toBe('—')
    // One list call for the screen, one for the shell's background-work indicator.
    const listed = count('jobs:list')
    expect(listed).toBe(2)

    await push({ jobId: 7, state: 'running', done: 40, failed: 2, total: 100, ratePerSecond: 4, etaSeconds: 125 })
    expect(row().get('[data-testid="job-done"]').text()).toBe('40')
    expect(row().get('[data-testid="job-failed"]').text()).toBe('2')
    expect(row().get('[data-testid="job-rate"]').text()).toBe('4.0/s')
    expect(row().get('[data-testid="job-eta"]').text()).toBe('2m 05s')
    // Same state: progress alone must not cost a list call per push.
    expect(count('jobs:list')).toBe(listed)

    await row().get('[data-testid="job-pause"]').trigger('click')
    await flushPromises()
    expect(calls.filter((c) => c.method === 'audit:pause').map((c) => c.input)).toEqual([{ jobId: 7 }])

    // The engine reports the stop; a state change reloads the list and the row drops its stale rate.
    state = 'paused'
    const listsBefore = count('jobs:list')
    await push({ jobId: 7, state: 'paused', done: 41, failed: 2, total: 100, ratePerSecond: null, etaSeconds: null })
    expect(count('jobs:list')).toBeGreaterThan(listsBefore)
    expect(row().get('[data-testid="job-state"]').text()).toBe('paused')
    expect(row().get('[data-testid="job-eta"]').text()).toBe('—')
    expect(row().get('[data-testid="job-pause"]').attributes('disabled')).toBeDefined()
    expect(row().get('[data-testid="job-resume"]').attributes('disabled')).toBeUndefined()

    expect(wrapper.find('[data-testid="job-failures"]').exists()).toBe(false)
    const expand = row().get('[data-testid="job-expand"]')
    expect(expand.attributes('aria-expanded')).toBe('false')
    await expand.trigger('click')
    await flushPromises()
    expect(calls.filter((c) => c.method === 'audit:job').map((c) => c.input)).toContainEqual({ jobId: 7 })
    expect(row().get('[data-testid="job-expand"]').attributes('aria-expanded')).toBe('true')
    const failures = wrapper.findAll('[data-testid="job-failure"]').map((r) => r.findAll('td').map((td) => td.text()))
    expect(failures).toEqual([
      ['seg:12', 'EXPLAIN_FAILED', 'mask is empty'],
      ['seg:40', '—', 'worker crashed']
    ])
  })

  it('re-reads a job another process runs and offers to resume it once it reads as interrupted', async () => {
    // No push comes for a job the CLI runs; its process is killed and the next list call says interrupted.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    try {
      let state: JobSummary['state'] = 'running'
      const { wrapper, calls, count } = await mountJobs((m) => {
        if (m === 'jobs:list') return { ok: true, result: [job({ state })] }
        if (m === 'audit:resume') return { ok: true, result: job({ state: 'running' }) }
        return undefined
      })
      const row = () => wrapper.get('[data-testid="job-7"]')
      expect(row().get('[data-testid="job-state"]').text()).toBe('running')
      expect(row().get('[data-testid="job-resume"]').attributes('disabled')).toBeDefined()
      const lists = count('jobs:list')
      state = 'interrupted'
      await vi.advanceTimersByTimeAsync(10_000)
      await flushPromises()
      expect(count('jobs:list')).toBe(lists + 1)
      const badge = row().get('[data-testid="job-state"]')
      expect(badge.text()).toBe('interrupted')
      expect(badge.attributes('title')).toContain('Resume to continue')
      expect(row().get('[data-testid="job-pause"]').attributes('disabled')).toBeDefined()
      expect(row().get('[data-testid="job-resume"]').attributes('disabled')).toBeUndefined()
      // Nothing listed runs any more: no further polling.
      await vi.advanceTimersByTimeAsync(30_000)
      expect(count('jobs:list')).toBe(lists + 1)
      await row().get('[data-testid="job-resume"]').trigger('click')
      await flushPromises()
      expect(calls.filter((c) => c.method === 'audit:resume').map((c) => c.input)).toEqual([{ jobId: 7, wait: false }])
    } finally {
      vi.useRealTimers()
    }
  })

  it('shows what each job works on by name, when it started and how long it ran', async () => {
    const started = new Date(2026, 0, 1, 9, 5)
    const { wrapper } = await mountJobs((m) =>
      m === 'jobs:list'
        ? {
            ok: true,
            result: [
              job({ id: 9, state: 'running', createdAt: new Date(Date.now() - 125_000).toISOString(), updatedAt: new Date().toISOString() }),
              job({
                id: 8, state: 'done', done: 100, failed: 0, createdAt: started.toISOString(), updatedAt: new Date(started.getTime() + 3_723_000).toISOString(),
                subject: { dataset: 'Demo street scenes', model: 'demo-street-unet', classes: null, method: 'vg', preset: null }
              }),
              job({ id: 7, kind: 'import', state: 'failed', subject: { dataset: null, model: null, classes: null, method: null, preset: null } })
            ]
          }
        : undefined
    )
    const cells = (id: number) => {
      const row = wrapper.get(`[data-testid="job-${id}"]`)
      return Object.fromEntries(['dataset', 'model', 'classes', 'method', 'started', 'duration'].map((k) => [k, row.get(`[data-testid="job-${k}"]`).text()]))
    }
    expect(cells(8)).toEqual({ dataset: 'Demo street scenes', model: 'demo-street-unet', classes: 'all', method: 'vg', started: '2026-01-01 09:05', duration: '1h 02m' })
    expect(cells(9)).toMatchObject({ dataset: 'Cityscapes val', model: 'lraspp-mobilenetv3', classes: 'rider, person', method: 'context (cityscapes)' })
    // A running job's duration runs to now.
    expect(cells(9).duration).toMatch(/^2m 0[5-9]s$/)
    expect(cells(7)).toMatchObject({ dataset: '—', model: '—', classes: '—', method: '—' })
    expect(wrapper.findAll('[data-testid="jobs"] thead th').map((h) => h.text())).toEqual(
      ['#', 'Kind', 'Dataset', 'Model', 'Classes', 'Method', 'State', 'Progress', 'Done / failed / total', 'Rate', 'ETA', 'Started', 'Duration', 'Actions']
    )
  })

  it('shows a refused resume with its code and then the state the engine has', async () => {
    // The list said paused, but the job was cancelled elsewhere meanwhile: resume answers JOB_STATE.
    let state: JobSummary['state'] = 'paused'
    const { wrapper, calls } = await mountJobs((m) => {
      if (m === 'jobs:list') return { ok: true, result: [job({ state })] }
      if (m === 'audit:resume') {
        state = 'cancelled'
        return { ok: false, error: { code: 'JOB_STATE', message: 'Job 7 is cancelled; only queued, paused or failed jobs can be resumed' } }
      }
      return undefined
    })
    await wrapper.get('[data-testid="job-resume"]').trigger('click')
    await flushPromises()
    expect(calls.filter((c) => c.method === 'audit:resume').map((c) => c.input)).toEqual([{ jobId: 7, wait: false }])
    expect(wrapper.get('[data-testid="error"]').text()).toContain('[JOB_STATE]')
    expect(wrapper.get('[data-testid="job-state"]').text()).toBe('cancelled')
    expect(wrapper.get('[data-testid="job-resume"]').attributes('disabled')).toBeDefined()
    expect(wrapper.get('[data-testid="job-cancel"]').attributes('disabled')).toBeDefined()
  })
})

/** A benchmark run: a job of the app's own list, whose id may equal a project job's. */
const benchmark = (over: Partial<JobListItem> = {}): JobListItem =>
  job({
    id: 7, kind: 'benchmark', scope: 'app', state: 'running', done: 4, failed: 0, total: 10,
    subject: { dataset: 'texture-MNIST', model: '2 U-Nets', classes: null, method: 'context, vg', preset: 'quick' }, ...over
  })

const benchmarkDetail = (state: JobSummary['state']) => ({
  ...benchmark({ state }), running: state === 'running', step: null,
  params: { preset: 'quick', name: 'quick', configFile: null, outRoot: '/home/u/.context-lens/benchmark', runDir: '/home/u/.context-lens/benchmark/quick-abc', config: {} },
  result: null
})

describe('benchmark runs in Jobs', () => {
  it("lists the app's benchmark run beside a project audit of the same id, with its step, and acts on it through the benchmark service", async () => {
    let state: JobSummary['state'] = 'running'
    const { wrapper, calls, push } = await mountJobs((m) => {
      if (m === 'jobs:list') return { ok: true, result: [benchmark({ state }), job({ state: 'done', done: 100, failed: 0 })] }
      if (m === 'benchmark:pause') {
        state = 'paused'
        return { ok: true, result: benchmarkDetail('paused') }
      }
      if (m === 'benchmark:resume') return { ok: true, result: benchmarkDetail('queued') }
      if (m === 'benchmark:job') return { ok: true, result: benchmarkDetail(state) }
      return undefined
    })
    const audit = () => wrapper.get('[data-testid="job-7"]')
    const run = () => wrapper.get('[data-testid="job-app-7"]')
    expect(run().get('[data-testid="job-kind"]').text()).toBe('benchmark')
    expect(run().get('[data-testid="job-dataset"]').text()).toBe('texture-MNIST')
    expect(run().get('[data-testid="job-method"]').text()).toBe('context, vg (quick)')
    expect(run().get('[data-testid="job-classes"]').text()).toBe('all')

    // Its progress goes to its own row, not to the audit numbered 7 in the project.
    await push({ jobId: 7, scope: 'app', kind: 'benchmark', state: 'running', done: 5, failed: 0, total: 10, ratePerSecond: null, etaSeconds: null, step: { label: '6/10 explain VG · strong-d2-t3-s0 on strong d2 t3', done: 3, total: 20 } })
    expect(run().get('[data-testid="job-done"]').text()).toBe('5')
    expect(run().text()).toContain('6/10 explain VG · strong-d2-t3-s0 on strong d2 t3 · 3 / 20')
    expect(audit().get('[data-testid="job-done"]').text()).toBe('100')
    // The shell's background bar names it as a benchmark.
    expect(wrapper.get('[data-testid="background-work"]').text()).toContain('Benchmark 7')
    expect(wrapper.get('[data-testid="background-work"]').text()).toContain('5 / 10')

    await run().get('[data-testid="job-pause"]').trigger('click')
    await flushPromises()
    expect(calls.filter((c) => c.method === 'benchmark:pause').map((c) => c.input)).toEqual([{ jobId: 7 }])
    expect(calls.some((c) => c.method.startsWith('audit:'))).toBe(false)
    await push({ jobId: 7, scope: 'app', kind: 'benchmark', state: 'paused', done: 5, failed: 0, total: 10, ratePerSecond: null, etaSeconds: null })
    expect(run().get('[data-testid="job-state"]').text()).toBe('paused')
    expect(wrapper.find('[data-testid="background-work"]').exists()).toBe(false)

    // Expanded: where its results are, rather than item errors.
    await run().get('[data-testid="job-expand"]').trigger('click')
    await flushPromises()
    expect(calls.filter((c) => c.method === 'benchmark:job').map((c) => c.input)).toEqual([{ jobId: 7 }])
    expect(wrapper.get('[data-testid="job-run-dir"]').text()).toBe('/home/u/.context-lens/benchmark/quick-abc')
    expect(wrapper.get('[data-testid="job-run"]').text()).toContain('Resuming reruns the same config')

    await run().get('[data-testid="job-resume"]').trigger('click')
    await flushPromises()
    expect(calls.filter((c) => c.method === 'benchmark:resume').map((c) => c.input)).toEqual([{ jobId: 7, wait: false }])
  })

  it('lists benchmark runs without a project open', async () => {
    const { wrapper, calls } = await mountJobs((m) => (m === 'jobs:list' ? { ok: true, result: [benchmark({ state: 'done', done: 10 })] } : undefined), { project: false })
    expect(calls.some((c) => c.method === 'jobs:list')).toBe(true)
    expect(wrapper.find('[data-testid="empty-jobs"]').exists()).toBe(false)
    expect(wrapper.get('[data-testid="job-app-7"] [data-testid="job-state"]').text()).toBe('done')
  })
})
