// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import type { Bridge, Reply } from '@common/contract'
import { contextTable, evidenceText, exampleLabel, percent, rankAlerts, table1Label, thinNote } from '@common/charts'
import type { AuditStats } from '@common/audit'
import type { JobSummary } from '@common/types'

// The report tests' fixture, shared rather than copied; imported by a computed path because the web type-check
// project may not include files outside test/renderer.
const fixture = '../report/fixtures/stats'
const { syntheticStats } = (await import(/* @vite-ignore */ fixture)) as {
  syntheticStats: (o: { classes: number; alerts: number; partial?: AuditStats['partial'] }) => AuditStats
}

type Call = { method: string; input: Record<string, unknown> }

const project = {
  path: '/tmp/p.ctxlens', name: 'p', schemaVersion: 1, createdAt: '2026-01-01T00:00:00Z',
  counts: { datasets: 1, images: 10, models: 1, explanations: 81, bookmarks: 0, jobs: 1 }
}
const info = {
  appName: 'Context Lens', appVersion: '0.1.0', nodeVersion: '20', platform: 'linux-x64', transport: 'electron',
  backend: { name: 'cpu', tfBackend: 'cpu', skipped: [] }, onnxRuntime: { available: true, version: '1.30.0', provider: 'cpu', providers: ['cpu'] }, project
}
const job = (id: number, over: Partial<JobSummary> = {}): JobSummary => ({
  id, kind: 'audit', state: 'done', done: 81, failed: 0, total: 81, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', error: null, ...over
})
// 12 context classes, 4 alerts (one of them a density alert): small enough to read, big enough to rank.
const stats = syntheticStats({ classes: 12, alerts: 4 })

/** The app on the Reports screen over a fake preload bridge; `handle` answers what the screen asks. */
async function mountReports(handle: (method: string, input: Record<string, unknown>) => Reply<unknown> | undefined) {
  const calls: Call[] = []
  const bridge: Bridge = {
    invoke: async (method, input) => {
      const i = (input ?? {}) as Record<string, unknown>
      calls.push({ method, input: i })
      if (method === 'app:info') return { ok: true, result: info }
      if (method === 'project:current') return { ok: true, result: project }
      return handle(method, i) ?? { ok: false, error: { code: 'UNKNOWN_METHOD', message: method } }
    },
    onEvent: () => () => undefined
  }
  window.ctxlens = bridge
  vi.resetModules()
  const { default: App } = await import('@renderer/App.vue')
  const { router } = await import('@renderer/router')
  setActivePinia(createPinia())
  const wrapper = mount(App, { global: { plugins: [router] }, attachTo: document.body })
  await router.push('/reports')
  await router.isReady()
  for (let i = 0; i < 4; i++) await flushPromises()
  return { wrapper, calls, router }
}

const auditProject = (method: string, input: Record<string, unknown>): Reply<unknown> | undefined => {
  if (method === 'jobs:list') return { ok: true, result: [job(3), job(2, { kind: 'train' }), job(1, { done: 0, state: 'failed' })] }
  if (method === 'datasets:list') return { ok: true, result: [{ id: 1, name: 'Street scenes', format: 'folder', root: '/d', classSetId: 1, imageCount: 10, splits: { test: 10 }, createdAt: '' }] }
  if (method === 'models:list') return { ok: true, result: [{ id: 2, name: 'street-unet', architecture: 'unet-vgg', dir: '/m', predictions: 10, input: null }] }
  if (method === 'audit:job') return { ok: true, result: { ...job(Number(input.jobId)), params: { datasetId: 1, modelId: 2 }, failures: [], running: false } }
  if (method === 'audit:stats') return { ok: true, result: stats }
  if (method === 'reports:save') return { ok: true, result: { path: '/home/me/report.pdf', pages: 9, bytes: 1000, sections: input.sections } }
  return undefined
}

describe('reports screen', () => {
  it('shows the empty state when the project has no audit with results', async () => {
    const { wrapper, calls } = await mountReports((m) => (m === 'jobs:list' ? { ok: true, result: [job(1, { done: 0, state: 'queued' })] } : m.endsWith(':list') ? { ok: true, result: [] } : undefined))
    expect(wrapper.find('[data-testid="reports-view"]').exists()).toBe(true)
    expect(wrapper.get('[data-testid="empty-reports"]').text()).toContain('No audit results yet')
    expect(wrapper.findAll('[data-testid="report-chart"]')).toHaveLength(0)
    expect(calls.some((c) => c.method === 'audit:stats')).toBe(false)
    wrapper.unmount()
  })

  it('draws the statistics of the latest audit as SVG charts, tables and ranked alerts that open the image view', async () => {
    const { wrapper, calls, router } = await mountReports(auditProject)
    expect(calls.filter((c) => c.method === 'audit:stats').map((c) => c.input)).toEqual([{ jobId: 3, contourRadius: 4, includeUnrecovered: false }])
    expect(wrapper.get('[data-testid="report-job"]').findAll('option').map((o) => o.text())).toEqual(['#3 street-unet on Street scenes (done, 81/81)'])
    expect(wrapper.get('[data-testid="report-summary"]').text()).toContain('context explanations of street-unet on Street scenes: 81 explanations on 41 images; 81 of 101 recovered (80%)')
    expect(wrapper.find('[data-testid="report-partial"]').exists()).toBe(false)

    // Share and density alert charts, then per requested class: distribution, density/lift, Table 1 (both classes have rows).
    const charts = wrapper.findAll('[data-testid="report-chart"]')
    expect(charts.map((c) => c.attributes('data-chart'))).toEqual(['alerts-share', 'alerts-density', 'context-0', 'density-0', 'table1-0', 'context-1', 'density-1', 'table1-1'])
    for (const c of charts) expect(c.find('svg').exists(), `${c.attributes('data-chart')} is drawn as SVG`).toBe(true)
    // The bars carry the statistics' own numbers (rounded as the PDF rounds them).
    const riderTop = stats.perClass[0].context[0]
    expect(charts[2].find('svg').text()).toContain(`${(100 * riderTop.share).toFixed(1)}%`)

    const rider = wrapper.get('[data-testid="report-class-0"]')
    const riderRows = rider.findAll('table')[0].findAll('tbody tr').map((r) => r.findAll('td').map((d) => d.text()))
    expect(riderRows).toEqual(contextTable(stats.perClass[0], stats.options).rows)
    const t1 = rider.get('[data-testid="table1"]')
    expect(t1.findAll('th').map((h) => h.text())).toEqual(['Context class', ...stats.table1.filter((r) => r.gtClass === 0).map((r) => table1Label(r, stats.options))])
    expect(table1Label(stats.table1[0], stats.options)).toBe('correct (n=30, 15 img, 81% rec.)')
    // The confusion rests on 10 explanations, fewer than an alert needs: its shares are marked and the table says why.
    expect(t1.findAll('th')[2].text()).toMatch(/\u2020$/)
    expect(t1.get('[data-testid="report-table-note"]').text()).toBe(thinNote(stats.options))
    expect(t1.findAll('tbody tr')[0].findAll('td').map((d) => d.text())[1]).toBe(percent(Math.max(...Object.values(stats.table1[0].shares))))

    const alerts = wrapper.findAll('[data-testid="bias-alert"]')
    const ranked = rankAlerts(stats.alerts)
    // Strongest first, share and density alerts in one ranking (lower bound over threshold).
    expect(alerts.map((a) => a.get('strong').text())).toEqual(ranked.map((a, i) => `${i + 1}. ${a.requestedName} <- ${a.contextName}`))
    expect(ranked.map((a) => a.reason)).toEqual(['share', 'density', 'share', 'share'])
    const example = ranked[0].examples[0]
    const link = alerts[0].get('[data-testid="alert-example"]')
    expect(link.attributes('href')).toBe(`#/image?id=${example.imageId}&model=2&segment=${example.segmentId}&explanation=${example.explanationId}`)
    await link.trigger('click')
    // The image view is a lazily loaded route: wait for the navigation to land.
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/image'), { timeout: 15_000 })
    expect(router.currentRoute.value.query).toEqual({ id: String(example.imageId), model: '2', segment: String(example.segmentId), explanation: String(example.explanationId) })
    wrapper.unmount()
  })

  it('exports the chosen sections through the desktop save dialog', async () => {
    const { wrapper, calls } = await mountReports(auditProject)
    await wrapper.get('[data-testid="report-section-bookmarks"]').setValue(false)
    await wrapper.get('[data-testid="report-section-methods"]').setValue(false)
    await wrapper.get('[data-testid="export-pdf"]').trigger('click')
    for (let i = 0; i < 3; i++) await flushPromises()
    expect(calls.filter((c) => c.method === 'reports:save').map((c) => c.input)).toEqual([{ jobId: 3, contourRadius: 4, includeUnrecovered: false, sections: ['alerts', 'classes'] }])
    expect(wrapper.get('[data-testid="export-status"]').text()).toBe('Saved /home/me/report.pdf (9 pages)')

    // A different radius recomputes the statistics for the screen and the export alike.
    await wrapper.get('[data-testid="report-radius"]').setValue('6')
    for (let i = 0; i < 3; i++) await flushPromises()
    expect(calls.filter((c) => c.method === 'audit:stats').at(-1)!.input).toEqual({ jobId: 3, contourRadius: 6, includeUnrecovered: false })
    wrapper.unmount()
  })

  it('says what alerts rest on, names examples by file and place, lists insufficient evidence apart, and flags a partial audit', async () => {
    const partial = syntheticStats({ classes: 12, alerts: 4, partial: { state: 'cancelled', done: 128, failed: 0, total: 368 } })
    const weak = { ...partial.alerts[0], evidence: { explanations: 5, images: 2, total: 9, recovered: 5, notRecovered: 4, recoveryRate: 5 / 9 } }
    const shown: AuditStats = { ...partial, insufficient: [weak] }
    const { wrapper, calls } = await mountReports((m, i) => (m === 'audit:stats' ? { ok: true, result: shown } : auditProject(m, i)))
    expect(wrapper.get('[data-testid="report-partial"]').text()).toMatch(/^PARTIAL: 128 of 368 items \(audit cancelled\)/)

    const first = wrapper.findAll('[data-testid="bias-alert"]')[0]
    const top = rankAlerts(shown.alerts)[0]
    expect(first.get('[data-testid="alert-evidence"]').text()).toBe(`Rests on ${evidenceText(top.evidence)}`)
    expect(first.get('[data-testid="alert-example"]').text()).toBe(`${exampleLabel(top.examples[0])} (40%)`)
    expect(first.get('[data-testid="alert-example"]').text()).toMatch(/^scene-\d+\.png \(val\), (rider|person) at \(\d+, 20\), 312 px/)
    const apart = wrapper.get('[data-testid="insufficient-evidence"]')
    expect(apart.get('summary').text()).toContain('1 more on insufficient evidence (fewer than 20 explanations or 3 images)')
    // Nine in all is too few for a recovery percentage: the count stands alone.
    expect(apart.get('[data-testid="insufficient-alert"]').text()).toContain('5 explanations on 2 images; 5 of 9 recovered')
    expect(apart.get('[data-testid="insufficient-alert"]').text()).not.toContain('56%')

    // Counting unrecovered explanations recomputes the statistics with them.
    await wrapper.get('[data-testid="report-include-unrecovered"]').setValue(true)
    for (let i = 0; i < 3; i++) await flushPromises()
    expect(calls.filter((c) => c.method === 'audit:stats').at(-1)!.input).toEqual({ jobId: 3, contourRadius: 4, includeUnrecovered: true })
    wrapper.unmount()
  })
})
