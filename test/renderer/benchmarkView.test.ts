// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import type { AnyEvent, Bridge, EventPayload, Reply } from '@common/contract'
import type { BenchmarkResult, BiasMatrixData } from '@common/benchmark'

type Call = { method: string; input: Record<string, unknown> }

const info = {
  appName: 'Context Lens', appVersion: '0.1.0', nodeVersion: '20', platform: 'linux-x64', transport: 'electron',
  backend: { name: 'cpu', tfBackend: 'cpu', skipped: [] }, onnxRuntime: { available: true, version: '1.30.0', provider: 'cpu', providers: ['cpu'] }, project: null
}
const presets = [
  { name: 'quick', description: 'Committed models, about 5 minutes.', models: 2, config: {} },
  { name: 'paper-small', description: 'Trains what is not committed.', models: 4, config: {} }
]

const ROWS = ['N', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']
const COLS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']
/** A matrix with values only in rows N and 2. */
function matrix(n: (j: number) => number | null, two: (j: number) => number | null): BiasMatrixData {
  const values = ROWS.map((r) => COLS.map((_, j) => (r === 'N' ? n(j) : r === '2' ? two(j) : null)))
  return {
    rowLabels: ROWS, columnLabels: COLS, values,
    cells: values.map((row) => row.map((v) => ({ mean: v, std: v === null ? null : 0, models: v === null ? 0 : 1, images: v === null ? 0 : 5, undefinedImages: 0 })))
  }
}
const result: BenchmarkResult = {
  name: 'quick', preset: 'quick', configHash: 'abc123def456', runDir: '/tmp/bench/quick-abc123def456', config: {},
  startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:05:00Z', wallSeconds: 301, units: { cached: 2, computed: 10 },
  models: [],
  iou: matrix(() => 0.7, (j) => (j === 2 ? 0.05 : 0.7)),
  methods: [
    { method: 'context', label: 'Grid saliency (context)', seconds: 100, cbd: matrix(() => 0.05, (j) => (j === 2 ? 0.31 : 0.04)), cbl: matrix((j) => (j === 2 ? 0.5 : null), (j) => (j === 2 ? 0.97 : null)) },
    { method: 'vg', label: 'VG', seconds: 2, cbd: matrix(() => 0.3, () => 0.3), cbl: matrix((j) => (j === 2 ? 0.5 : null), (j) => (j === 2 ? 0.48 : null)) }
  ],
  summary: [
    { method: 'context', label: 'Grid saliency (context)', row: '2', biasedDigit: 2, mcbdBiased: 0.31, mcbdOthers: 0.04, mcblBiased: 0.97, paper: 'mCBL > 0.9' },
    { method: 'vg', label: 'VG', row: '2', biasedDigit: 2, mcbdBiased: 0.3, mcbdOthers: 0.3, mcblBiased: 0.48, paper: 'mCBL ≈ 0.5' }
  ],
  explained: { requests: 240, skipped: 0 },
  sanity: null,
  verdicts: [],
  files: { json: '/tmp/r.json', csv: '/tmp/r.csv', summary: '/tmp/s.txt', figures: [] }
}

async function mountBenchmark(handle: (method: string, input: Record<string, unknown>) => Promise<Reply<unknown>> | Reply<unknown> | undefined) {
  const calls: Call[] = []
  const listeners = new Set<(e: AnyEvent) => void>()
  const bridge: Bridge = {
    invoke: async (method, input) => {
      const i = (input ?? {}) as Record<string, unknown>
      calls.push({ method, input: i })
      if (method === 'app:info') return { ok: true, result: info }
      if (method === 'project:current') return { ok: true, result: null }
      if (method === 'benchmark:presets') return { ok: true, result: presets }
      return (await handle(method, i)) ?? { ok: false, error: { code: 'UNKNOWN_METHOD', message: method } }
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
  await router.push('/benchmark')
  await router.isReady()
  await flushPromises()
  await flushPromises()
  const push = async (payload: EventPayload<'task:progress'>): Promise<void> => {
    listeners.forEach((l) => l({ event: 'task:progress', payload }))
    await flushPromises()
  }
  return { wrapper, calls, push }
}

describe('benchmark screen', () => {
  it('runs the chosen preset with live progress and cancels it through its task', async () => {
    let settle: (r: Reply<unknown>) => void = () => undefined
    const { wrapper, calls, push } = await mountBenchmark((m) => {
      if (m === 'benchmark:run') return new Promise<Reply<unknown>>((r) => (settle = r))
      if (m === 'tasks:cancel') return { ok: true, result: { cancelled: true } }
      return undefined
    })
    expect(wrapper.find('[data-testid="empty-benchmark"]').exists()).toBe(true)
    expect(wrapper.findAll('[data-testid="benchmark-preset"] option').map((o) => o.text())).toEqual(['quick (2 models)', 'paper-small (4 models)'])
    await wrapper.find('[data-testid="benchmark-preset"]').setValue('paper-small')
    expect(wrapper.find('[data-testid="benchmark-description"]').text()).toContain('Trains what is not committed')
    await wrapper.find('[data-testid="benchmark-run"]').trigger('click')
    await flushPromises()
    expect(calls.find((c) => c.method === 'benchmark:run')?.input).toEqual({ preset: 'paper-small' })
    expect((wrapper.find('[data-testid="benchmark-run"]').element as HTMLButtonElement).disabled).toBe(true)

    // Another task's progress is not ours.
    await push({ taskId: 3, label: 'texture-MNIST', state: 'running', done: 5, total: 10 })
    expect(wrapper.find('[data-testid="benchmark-progress"]').text()).toContain('Starting')
    await push({ taskId: 9, label: 'benchmark', state: 'running', done: 40, total: 160, message: '5/12 explain IG · strong-d2-t3-s0 on strong d2 t3' })
    const progress = wrapper.find('[data-testid="benchmark-progress"]')
    expect(progress.text()).toContain('Step 5 of 12: explain IG · strong-d2-t3-s0 on strong d2 t3')
    expect(progress.text()).toContain('40 / 160')
    const bar = progress.find('progress').element as HTMLProgressElement
    expect(Number(bar.getAttribute('max'))).toBe(12)
    expect(Number(bar.getAttribute('value'))).toBeCloseTo(4.25)

    await wrapper.find('[data-testid="benchmark-cancel"]').trigger('click')
    await flushPromises()
    expect(calls.find((c) => c.method === 'tasks:cancel')?.input).toEqual({ taskId: 9 })
    settle({ ok: false, error: { code: 'CANCELLED', message: 'benchmark cancelled' } })
    await flushPromises()
    expect(wrapper.find('[data-testid="benchmark-progress"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="benchmark-notice"]').text()).toContain('resumes')
    expect(wrapper.find('[data-testid="error"]').exists()).toBe(false)
  })

  it('shows the summary and one heatmap per method and metric, with only the rows that have values', async () => {
    const { wrapper } = await mountBenchmark((m) => (m === 'benchmark:run' ? { ok: true, result } : undefined))
    await wrapper.find('[data-testid="benchmark-run"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="empty-benchmark"]').exists()).toBe(false)
    const summary = wrapper.find('[data-testid="benchmark-summary"]')
    expect(summary.findAll('tbody tr').map((r) => r.findAll('td').map((td) => td.text()).slice(0, 5))).toEqual([
      ['Grid saliency (context)', '2', '0.310', '0.040', '0.970'],
      ['VG', '2', '0.300', '0.300', '0.480']
    ])
    for (const id of ['heatmap-iou', 'heatmap-cbd-context', 'heatmap-cbd-vg', 'heatmap-cbl-context', 'heatmap-cbl-vg']) {
      expect(wrapper.find(`[data-testid="${id}"]`).exists()).toBe(true)
    }
    const cbl = wrapper.find('[data-testid="heatmap-cbl-context"]')
    expect(cbl.findAll('tbody tr').map((r) => r.attributes('data-testid'))).toEqual(['row-N', 'row-2'])
    const cells = cbl.find('[data-testid="row-2"]').findAll('[data-testid="cell"]')
    expect(cells[2].text()).toBe('0.97')
    expect(cells[3].text()).toBe('—')
    // The strongest cell is the darkest.
    expect(cells[2].attributes('style')).toContain('rgb(')
    expect(wrapper.find('[data-testid="benchmark-meta"]').text()).toContain('10 parts computed, 2 from cache')
  })
})
