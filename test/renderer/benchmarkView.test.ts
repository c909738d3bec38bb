// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import type { AnyEvent, Bridge, EventPayload, Reply } from '@common/contract'
import type { BenchmarkResult, BiasMatrixData, ModelMethodReading, ModelVerdict } from '@common/benchmark'
import type { BenchmarkJob } from '@common/methods/benchmark'
import type { JobSummary } from '@common/types'

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

/** Grid saliency's reading of one biased model: the biased digit's numbers, and the other digit with the highest mCBD. */
function reading(o: { biased: number; mcbd: number; n: number; empty: number; other: number; otherMcbd: number; mcblBiased: number; mcblImages: number; detects?: boolean; dependent?: { k: number; mcbd: number; mcbl: number; n: number } }): ModelMethodReading {
  return {
    method: 'context',
    mcbd: Array.from({ length: 10 }, (_, d) => (d === o.biased ? o.mcbd : d === o.other ? o.otherMcbd : 0.01)),
    requests: Array.from({ length: 10 }, (_, d) => (d === o.biased ? o.n : 5)),
    emptyShare: Array.from({ length: 10 }, (_, d) => (d === o.biased ? o.empty : 0)),
    emptyStartedLow: null,
    mcblBiased: o.mcblBiased,
    mcblImages: o.mcblImages,
    contextDependent: o.dependent ? Array.from({ length: 10 }, (_, d) => (d === o.biased ? o.dependent!.k : 1)) : [],
    collapsed: o.dependent ? Array.from({ length: 10 }, () => 0) : [],
    mcbdDependent: o.dependent ? Array.from({ length: 10 }, (_, d) => (d === o.biased ? o.dependent!.mcbd : 0.02)) : [],
    mcblDependent: o.dependent?.mcbl ?? null,
    mcblDependentImages: o.dependent?.n ?? 0,
    mcbdOthersMax: o.otherMcbd,
    mcbdOthersMaxDigit: o.other,
    detects: o.detects ?? false
  }
}
const verdicts: ModelVerdict[] = [
  {
    key: 'k1', name: 'strong-d2-t3-s0', row: '2', bias: 'strong', biasedDigit: 2, texture: 3, seed: 0,
    iouUnbiasedModel: 0.71, iouBiasedModel: 0.06, iouDrop: 0.65, learned: 'yes', verdict: 'learned-detected',
    methods: [reading({ biased: 2, mcbd: 0.312, n: 20, empty: 0.1, other: 6, otherMcbd: 0.045, mcblBiased: 0.93, mcblImages: 18, detects: true })],
    reason: 'digit 2 IoU on unbiased images 0.71 → 0.06 (drop 0.65) ≥ 0.15: the bias was learned. Grid saliency: mCBD 0.312 (n 20) vs highest other 0.045'
  },
  {
    key: 'k2', name: 'strong-d6-t14-s1', row: '6', bias: 'strong', biasedDigit: 6, texture: 14, seed: 1,
    iouUnbiasedModel: 0.57, iouBiasedModel: 0.17, iouDrop: 0.4, learned: 'yes', verdict: 'learned-missed',
    methods: [reading({ biased: 6, mcbd: 0.02, n: 10, empty: 0.6, other: 3, otherMcbd: 0.08, mcblBiased: 0.5, mcblImages: 4, dependent: { k: 4, mcbd: 0.05, mcbl: 0.875, n: 3 } })],
    reason: 'digit 6 IoU on unbiased images 0.57 → 0.17 (drop 0.40) ≥ 0.15: the bias was learned. Grid saliency: mCBD 0.020 (n 10) vs highest other 0.080 (digit 3); 6/10 masks empty'
  }
]

const params = { preset: 'quick' as const, name: 'quick', configFile: null, outRoot: '/tmp/bench', runDir: '/tmp/bench/quick-abc123def456', config: {} }
/** A benchmark job as the service answers for it. */
function benchJob(id: number, state: JobSummary['state'], over: Partial<BenchmarkJob> = {}): BenchmarkJob {
  return {
    id, kind: 'benchmark', scope: 'app', state, done: state === 'done' ? 12 : 4, failed: 0, total: 12,
    createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:05:00Z', error: null,
    subject: { dataset: 'texture-MNIST', model: '2 U-Nets', classes: null, method: 'context, vg', preset: 'quick' },
    params, running: state === 'running' || state === 'queued', step: null, result: state === 'done' ? result : null, ...over
  }
}
type Progress = EventPayload<'job:progress'>
const progress = (jobId: number, over: Partial<Progress> = {}): Progress => ({
  jobId, scope: 'app', kind: 'benchmark', state: 'running', done: 4, failed: 0, total: 12, ratePerSecond: null, etaSeconds: null, ...over
})


async function mountBenchmark(
  handle: (method: string, input: Record<string, unknown>) => Promise<Reply<unknown>> | Reply<unknown> | undefined,
  path = '/benchmark'
) {
  const calls: Call[] = []
  const listeners = new Set<(e: AnyEvent) => void>()
  const bridge: Bridge = {
    invoke: async (method, input) => {
      const i = (input ?? {}) as Record<string, unknown>
      calls.push({ method, input: i })
      if (method === 'app:info') return { ok: true, result: info }
      if (method === 'project:current') return { ok: true, result: null }
      if (method === 'benchmark:presets') return { ok: true, result: presets }
      if (method === 'jobs:list') return { ok: true, result: [] }
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
  await router.push(path)
  await router.isReady()
  await flushPromises()
  await flushPromises()
  const push = async (payload: Progress): Promise<void> => {
    listeners.forEach((l) => l({ event: 'job:progress', payload }))
    await flushPromises()
  }
  return { wrapper, calls, push }
}

const none = { ok: true, result: { job: null, finished: null } } as const

describe('benchmark screen', () => {
  it('runs the chosen preset as a job with live progress, and cancels it', async () => {
    const { wrapper, calls, push } = await mountBenchmark((m) => {
      if (m === 'benchmark:latest') return none
      if (m === 'benchmark:start') return { ok: true, result: benchJob(4, 'queued', { done: 0 }) }
      if (m === 'benchmark:cancel') return { ok: true, result: benchJob(4, 'cancelled', { done: 5, running: false }) }
      return undefined
    })
    expect(wrapper.find('[data-testid="empty-benchmark"]').exists()).toBe(true)
    expect(wrapper.findAll('[data-testid="benchmark-preset"] option').map((o) => o.text())).toEqual(['quick (2 models)', 'paper-small (4 models)'])
    await wrapper.find('[data-testid="benchmark-preset"]').setValue('paper-small')
    expect(wrapper.find('[data-testid="benchmark-description"]').text()).toContain('Trains what is not committed')
    await wrapper.find('[data-testid="benchmark-run"]').trigger('click')
    await flushPromises()
    expect(calls.find((c) => c.method === 'benchmark:start')?.input).toEqual({ preset: 'paper-small' })
    expect((wrapper.find('[data-testid="benchmark-run"]').element as HTMLButtonElement).disabled).toBe(true)
    expect(wrapper.find('[data-testid="benchmark-progress"]').text()).toContain('Starting')

    // Another job's progress is not this run's: an audit of the project numbered 4 too, and another benchmark.
    await push(progress(4, { scope: undefined, kind: 'audit', step: { label: '9/9 not ours', done: 1, total: 2 } }))
    await push(progress(5, { step: { label: '1/3 other run', done: 1, total: 2 } }))
    expect(wrapper.find('[data-testid="benchmark-progress"]').text()).toContain('Starting')
    await push(progress(4, { step: { label: '5/12 explain IG · strong-d2-t3-s0 on strong d2 t3', done: 40, total: 160 } }))
    const bar = () => wrapper.find('[data-testid="benchmark-progress"]')
    expect(bar().text()).toContain('Step 5 of 12: explain IG · strong-d2-t3-s0 on strong d2 t3')
    expect(bar().text()).toContain('40 / 160')
    const el = bar().find('progress').element as HTMLProgressElement
    expect(Number(el.getAttribute('max'))).toBe(12)
    expect(Number(el.getAttribute('value'))).toBeCloseTo(4.25)

    await wrapper.find('[data-testid="benchmark-cancel"]').trigger('click')
    await flushPromises()
    expect(calls.find((c) => c.method === 'benchmark:cancel')?.input).toEqual({ jobId: 4 })
    expect(wrapper.find('[data-testid="benchmark-progress"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="benchmark-notice"]').text()).toContain('cancelled after 5 of 12 steps')
    expect(wrapper.find('[data-testid="benchmark-notice"]').text()).toContain('starts from them')
    expect((wrapper.find('[data-testid="benchmark-run"]').element as HTMLButtonElement).disabled).toBe(false)
    expect(wrapper.find('[data-testid="error"]').exists()).toBe(false)
  })

  it('keeps a run when the screen is left: coming back shows its progress, its Cancel, and then its result', async () => {
    // The service's side: one run, started on the first visit and still going on the second.
    let current: BenchmarkJob | null = null
    const earlier = benchJob(2, 'done', { result: { ...result, name: 'earlier' } })
    const service = (m: string): Reply<unknown> | undefined => {
      if (m === 'benchmark:latest') return { ok: true, result: { job: current ?? earlier, finished: earlier } }
      if (m === 'benchmark:start') return { ok: true, result: (current = benchJob(4, 'queued', { done: 0 })) }
      if (m === 'benchmark:job') return { ok: true, result: current }
      return undefined
    }
    const first = await mountBenchmark(service)
    // The last finished result shows from the start.
    expect(first.wrapper.find('[data-testid="benchmark-meta"]').text()).toContain('earlier · job 2')
    await first.wrapper.find('[data-testid="benchmark-run"]').trigger('click')
    await flushPromises()
    first.wrapper.unmount()

    current = benchJob(4, 'running', { done: 6, step: { label: '7/12 explain VG · strong-d2-t3-s0 on strong d2 t3', done: 3, total: 20 } })
    const back = await mountBenchmark(service)
    const bar = () => back.wrapper.find('[data-testid="benchmark-progress"]')
    expect(bar().text()).toContain('Job 4 (quick)')
    expect(bar().text()).toContain('Step 7 of 12: explain VG')
    expect(bar().text()).toContain('3 / 20')
    expect((back.wrapper.find('[data-testid="benchmark-run"]').element as HTMLButtonElement).disabled).toBe(true)
    expect(back.wrapper.find('[data-testid="benchmark-cancel"]').exists()).toBe(true)
    expect(back.wrapper.find('[data-testid="benchmark-meta"]').text()).toContain('earlier · job 2')

    // It finishes: its result replaces the earlier one.
    current = benchJob(4, 'done', { running: false })
    await back.push(progress(4, { state: 'done', done: 12 }))
    expect(back.calls.filter((c) => c.method === 'benchmark:job').map((c) => c.input)).toEqual([{ jobId: 4 }])
    expect(bar().exists()).toBe(false)
    expect(back.wrapper.find('[data-testid="benchmark-meta"]').text()).toContain('quick · job 4')
  })

  it('offers to resume a paused run, and opens the run a Jobs link names', async () => {
    const { wrapper, calls } = await mountBenchmark((m) => {
      if (m === 'benchmark:latest') return { ok: true, result: { job: benchJob(4, 'paused', { running: false }), finished: null } }
      if (m === 'benchmark:resume') return { ok: true, result: benchJob(4, 'queued') }
      return undefined
    })
    expect(wrapper.find('[data-testid="benchmark-notice"]').text()).toContain('Run quick (job 4) is paused after 4 of 12 steps')
    expect(wrapper.find('[data-testid="benchmark-pause"]').exists()).toBe(false)
    await wrapper.find('[data-testid="benchmark-resume"]').trigger('click')
    await flushPromises()
    expect(calls.find((c) => c.method === 'benchmark:resume')?.input).toEqual({ jobId: 4, wait: false })
    expect(wrapper.find('[data-testid="benchmark-progress"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="benchmark-notice"]').exists()).toBe(false)

    const linked = await mountBenchmark((m) => (m === 'benchmark:job' ? { ok: true, result: benchJob(2, 'done') } : undefined), '/benchmark?job=2')
    expect(linked.calls.some((c) => c.method === 'benchmark:latest')).toBe(false)
    expect(linked.calls.find((c) => c.method === 'benchmark:job')?.input).toEqual({ jobId: 2 })
    expect(linked.wrapper.find('[data-testid="benchmark-meta"]').text()).toContain('quick · job 2')
  })

  it('shows the summary and one heatmap per method and metric, with only the rows that have values', async () => {
    const { wrapper } = await mountBenchmark((m) => (m === 'benchmark:latest' ? { ok: true, result: { job: benchJob(3, 'done'), finished: benchJob(3, 'done') } } : undefined))
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
    // No biased model in this result's model list, and no verdicts: nothing to say about them.
    expect(wrapper.find('[data-testid="benchmark-verdicts"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="benchmark-no-verdicts"]').exists()).toBe(false)
  })

  it('shows per model whether the bias was learned and found, with the counts of each verdict and the sample sizes', async () => {
    const withVerdicts = benchJob(3, 'done', { result: { ...result, verdicts } })
    const { wrapper } = await mountBenchmark((m) => (m === 'benchmark:latest' ? { ok: true, result: { job: withVerdicts, finished: withVerdicts } } : undefined))
    const counts = (k: string) => wrapper.get(`[data-testid="verdict-count-${k}"]`).text()
    expect(counts('learned-detected')).toBe('1 bias learned and detected')
    expect(counts('learned-missed')).toBe('1 learned, missed')
    expect(counts('not-learned')).toBe('0 not learned')
    expect(counts('undetermined')).toBe('0 undetermined')
    const row = (name: string) => {
      const r = wrapper.get(`[data-testid="verdict-${name}"]`)
      return Object.fromEntries(['iou', 'drop', 'learned', 'mcbd', 'other', 'mcbl', 'empty', 'dependent'].map((k) => [k, r.get(`[data-testid="verdict-${k}"]`).text()]))
    }
    expect(row('strong-d2-t3-s0')).toEqual({
      iou: '0.71 → 0.06', drop: '0.65', learned: 'yes', mcbd: '0.312 n 20', other: '0.045 (digit 6) n 5', mcbl: '0.93 n 18', empty: '2 / 20 (10 %)', dependent: '—'
    })
    expect(row('strong-d6-t14-s1')).toEqual({
      iou: '0.57 → 0.17', drop: '0.40', learned: 'yes', mcbd: '0.020 n 10', other: '0.080 (digit 3) n 5', mcbl: '0.50 n 4', empty: '6 / 10 (60 %)',
      // Results that recorded S without context: how many of the biased digit's requests needed it, and the reading over them.
      dependent: '4 / 10 · mCBD 0.050, mCBL 0.88 (n 3) · 0 collapsed'
    })
    // The verdict gives its reason on hover and when expanded.
    const verdict = wrapper.get('[data-testid="verdict-strong-d6-t14-s1"] [data-testid="verdict-verdict"]')
    expect(verdict.get('summary').text()).toBe('learned, missed')
    expect(verdict.get('summary').attributes('title')).toBe(verdicts[1].reason)
    expect(verdict.get('[data-testid="verdict-reason"]').text()).toBe(verdicts[1].reason)
  })

  it('says why a run with biased models has no verdicts', async () => {
    const biased = { ...result, models: [{ key: 'b', row: '2', bias: 'strong' as const, biasedDigit: 2, texture: 3, seed: 0, source: 'trained' as const, dir: '/m', params: null, valMiou: null, testMiou: null, digitIou: [] }] }
    const j = benchJob(3, 'done', { result: biased })
    const { wrapper } = await mountBenchmark((m) => (m === 'benchmark:latest' ? { ok: true, result: { job: j, finished: j } } : undefined))
    expect(wrapper.get('[data-testid="benchmark-no-verdicts"]').text()).toContain('no unbiased model of the same seed')
  })
})
