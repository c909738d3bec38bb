// @vitest-environment happy-dom
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Bridge, Reply } from '@common/contract'

/**
 * The error-case screen over the real services and a real project file: the bridge hands every call to the
 * same dispatch the server and the IPC handler use, so what the screen shows is what the project holds.
 */
interface ErrorCasesProject {
  datasetA: number
  datasetB: number
  model1: number
  model2: number
  images: number[]
  segments: Record<'s30' | 's10' | 's50' | 's20' | 's5' | 's3', number>
}
type Served = { fixture: ErrorCasesProject; dispatch: (method: string, input: unknown) => Promise<Reply<unknown>>; dispose: () => void }

// The services are Node code and this file is type-checked as web code (tsconfig.web.json): a specifier in a
// variable keeps the fixture out of the web program while vitest still loads it.
const SERVICES = '../viewer/fixtures/errorCasesProject'
let fixture: ErrorCasesProject
let dispatch: Served['dispatch']
let dispose: () => void
const calls: { method: string; input: Record<string, unknown> }[] = []
let inFlight = 0

beforeAll(async () => {
  const served = (await (await import(/* @vite-ignore */ SERVICES)).serveErrorCasesProject()) as Served
  ;({ fixture, dispatch, dispose } = served)
  const bridge: Bridge = {
    invoke: async (method, input) => {
      calls.push({ method, input: (input ?? {}) as Record<string, unknown> })
      inFlight++
      try {
        return await dispatch(method, input)
      } finally {
        inFlight--
      }
    },
    onEvent: () => () => undefined
  }
  window.ctxlens = bridge
})
afterAll(() => dispose?.())

/**
 * Until no call to the services is in flight for several turns: the screen chains calls (counts, then a cell's
 * segments), and on a loaded machine a fixed number of turns ended before the real services answered.
 */
async function settle(): Promise<void> {
  const deadline = Date.now() + 15_000
  for (let quiet = 0; quiet < 4 && Date.now() < deadline; ) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 10))
    quiet = inFlight === 0 ? quiet + 1 : 0
  }
}

async function mountAt(url: string): Promise<{ wrapper: VueWrapper; query: () => Record<string, unknown> }> {
  vi.resetModules()
  const { default: App } = await import('@renderer/App.vue')
  const { router } = await import('@renderer/router')
  setActivePinia(createPinia())
  await router.push(url)
  await router.isReady()
  const wrapper = mount(App, { global: { plugins: [router] } })
  await settle()
  return { wrapper, query: () => router.currentRoute.value.query }
}

const cellText = (w: VueWrapper, gt: number, pred: number) => w.get(`[data-testid="cell-${gt}-${pred}"]`).text()
const column = (w: VueWrapper, testid: string) => w.findAll(`[data-testid="${testid}"]`).map((e) => e.text())

describe('error cases screen', () => {
  it('shows the pixel matrix with class names, switches to segments, and keeps the choice in the URL', async () => {
    const { wrapper, query } = await mountAt('/errors')
    expect(wrapper.find('[data-testid="errors-view"]').exists()).toBe(true)
    expect(wrapper.get('[data-testid="errors-summary"]').text()).toMatch(/^2 images · pixel accuracy 68\.8 % .* 65 misclassified segments$/)
    const matrix = wrapper.get('[data-testid="confusion-matrix"]')
    expect(matrix.findAll('th.row-head').map((h) => h.text())).toEqual(['road', 'person', 'rider'])
    // val/1: 40 rider pixels predicted person, 24 person pixels right; val/2: 64 road pixels right.
    expect(cellText(wrapper, 7, 6)).toBe('40')
    expect(cellText(wrapper, 6, 6)).toBe('24')
    expect(cellText(wrapper, 0, 0)).toBe('64')
    expect(cellText(wrapper, 7, 7)).toBe('·')
    expect(wrapper.get('[data-testid="cell-7-7"]').attributes('disabled')).toBeDefined()
    expect(wrapper.get('[data-testid="cell-7-6"]').attributes('title')).toBe('rider predicted as person: 40 pixels (100.0 % of rider)')
    // Only the model with predictions is offered.
    expect(wrapper.findAll('[data-testid="errors-model"] option').map((o) => o.text())).toEqual(['model-one (2 predictions)'])

    await wrapper.get('[data-testid="unit-segments"]').trigger('click')
    await settle()
    expect(query().unit).toBe('segments')
    expect(cellText(wrapper, 7, 6)).toBe('4')
    expect(cellText(wrapper, 6, 6)).toBe('1')
    expect(cellText(wrapper, 6, 0)).toBe('1')
    expect(cellText(wrapper, 0, 0)).toBe('·')
  })

  it('lists the segments of a clicked cell largest first, each linking to the image view with the segment picked', async () => {
    const { wrapper, query } = await mountAt('/errors?unit=segments')
    expect(wrapper.find('[data-testid="no-cell"]').exists()).toBe(true)
    await wrapper.get('[data-testid="cell-7-6"]').trigger('click')
    await settle()
    expect(query().cell).toBe('7-6')
    expect(wrapper.get('[data-testid="cell-7-6"]').attributes('aria-pressed')).toBe('true')
    expect(wrapper.get('[data-testid="cell-summary"]').text()).toContain('rider predicted as person: 40 pixels; 4 stored segments (65 px)')
    expect(column(wrapper, 'segment-area')).toEqual(['30', '20', '10', '5'])
    expect(wrapper.get('[data-testid="segment-count"]').text()).toBe('4 of 4 segments')
    const link = wrapper.get('[data-testid="open-segment"]')
    expect(link.text()).toBe('val/1.png')
    expect(link.attributes('href')).toBe(`#/image?id=${fixture.images[0]}&model=${fixture.model1}&segment=${fixture.segments.s30}`)
    expect(wrapper.get('[data-testid="cell-in-browser"]').attributes('href')).toBe(`#/datasets?dataset=${fixture.datasetA}&model=${fixture.model1}&error=7-6`)

    await wrapper.get('[data-testid="sort-confidence"]').trigger('click')
    await settle()
    expect(query().sort).toBe('confidence')
    expect(column(wrapper, 'segment-confidence')).toEqual(['90.0 %', '70.0 %', '40.0 %', '—'])
    await wrapper.get('[data-testid="sort-confidence"]').trigger('click')
    await settle()
    expect(query().asc).toBe('1')
    expect(column(wrapper, 'segment-confidence')).toEqual(['40.0 %', '70.0 %', '90.0 %', '—'])
  })

  it('shows a long cell a page at a time and appends the next page on request', async () => {
    const { wrapper } = await mountAt('/errors?unit=segments&cell=0-7')
    expect(cellText(wrapper, 0, 7)).toBe('60')
    expect(column(wrapper, 'segment-area')).toHaveLength(50)
    expect(wrapper.get('[data-testid="segment-count"]').text()).toBe('50 of 60 segments')
    await wrapper.get('[data-testid="more-segments"]').trigger('click')
    await settle()
    const areas = column(wrapper, 'segment-area').map(Number)
    expect(areas).toEqual(Array.from({ length: 60 }, (_, k) => 60 - k))
    expect(wrapper.find('[data-testid="more-segments"]').exists()).toBe(false)
  })

  it('leaves segments below the smallest area out of the counts and the list, and keeps the area in the URL', async () => {
    const { wrapper, query } = await mountAt('/errors?unit=segments&min=10&cell=7-6')
    expect((wrapper.get('[data-testid="errors-min-area"]').element as HTMLInputElement).value).toBe('10')
    expect(cellText(wrapper, 7, 6)).toBe('3')
    expect(cellText(wrapper, 6, 0)).toBe('·')
    expect(column(wrapper, 'segment-area')).toEqual(['30', '20', '10'])
    await wrapper.get('[data-testid="errors-min-area"]').setValue('25')
    await wrapper.get('[data-testid="errors-min-area"]').trigger('change')
    await settle()
    expect(query().min).toBe('25')
    expect(query().cell).toBe('7-6')
    expect(cellText(wrapper, 7, 6)).toBe('1')
    expect(column(wrapper, 'segment-area')).toEqual(['30'])
    // The pixel matrix counts every pixel whatever the smallest segment.
    await wrapper.get('[data-testid="unit-pixels"]').trigger('click')
    await settle()
    expect(cellText(wrapper, 7, 6)).toBe('40')
  })

  it('reopens a view from its URL, split included, and narrows the counts to that split', async () => {
    calls.length = 0
    const { wrapper } = await mountAt(`/errors?dataset=${fixture.datasetA}&model=${fixture.model1}&split=val&unit=segments&cell=7-6&sort=confidence&asc=1`)
    expect((wrapper.get('[data-testid="errors-split"]').element as HTMLSelectElement).value).toBe('val')
    expect(cellText(wrapper, 7, 6)).toBe('3')
    expect(column(wrapper, 'segment-confidence')).toEqual(['40.0 %', '90.0 %', '—'])
    const listCall = calls.find((c) => c.method === 'segments:byPair')!
    expect(listCall.input).toMatchObject({ datasetId: fixture.datasetA, modelId: fixture.model1, split: 'val', gt: 7, pred: 6, sort: 'confidence', descending: false })
  })

  it('says so when the model has no predictions on the chosen dataset', async () => {
    const { wrapper } = await mountAt(`/errors?dataset=${fixture.datasetB}&model=${fixture.model2}`)
    expect(wrapper.get('[data-testid="no-predictions-here"]').text()).toContain('model-two has no predictions with ground truth on Streets B')
    expect(wrapper.find('[data-testid="confusion-matrix"]').exists()).toBe(false)
  })

  it('shows the empty state without a project', async () => {
    await dispatch('project:close', {})
    const { wrapper } = await mountAt('/errors')
    expect(wrapper.get('[data-testid="empty-errors"]').text()).toContain('No predictions to compare yet')
    expect(wrapper.find('[data-testid="errors-view"]').exists()).toBe(false)
  })
})
