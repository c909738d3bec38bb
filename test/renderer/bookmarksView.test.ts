// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import type { Bridge, Reply } from '@common/contract'
import type { BookmarkCase, BookmarkThumbnails } from '@common/methods/annotations'

type Call = { method: string; input: Record<string, unknown> }

const project = {
  path: '/tmp/p.ctxlens', name: 'p', schemaVersion: 1, createdAt: '2026-01-01T00:00:00Z',
  counts: { datasets: 1, images: 3, models: 1, explanations: 2, bookmarks: 4, jobs: 0 }
}
const info = {
  appName: 'Context Lens', appVersion: '0.1.0', nodeVersion: '20', platform: 'linux-x64', transport: 'electron',
  backend: { name: 'cpu', tfBackend: 'cpu', skipped: [] }, onnxRuntime: { available: true, version: '1.30.0', provider: 'cpu', providers: ['cpu'] }, project
}

const image = (id: number, name: string) => ({ id, name, split: 'val', path: `leftImg8bit/val/${name}`, dataset: 'Cityscapes val' })
const bookmark = (id: number, title: string, tags: string[], targetKind: 'image' | 'segment' | 'explanation' = 'segment') =>
  ({ id, targetKind, targetId: 900 + id, title, tags, createdAt: '2026-01-01T00:00:00Z' })
const note = (id: number, body: string) => ({ id, targetKind: 'image' as const, targetId: 1, body, createdAt: '', updatedAt: '' })

/** Four bookmarks: two failures (one also "rider"), a rider on its own, one untagged whose image file went missing. */
const CASES: BookmarkCase[] = [
  {
    bookmark: bookmark(4, 'rider taken for a person', ['failure', 'rider']),
    image: image(31, 'frankfurt_000000_000294_leftImg8bit.png'),
    segment: { id: 77, kind: 'misclassified', gt: 'rider', pred: 'person', area: 412, x: 1312, y: 540 },
    explanation: { id: 501, method: 'context', className: 'person', modelId: 2 },
    notes: [note(1, 'Bicycle hidden behind the car.')],
    problem: null
  },
  {
    bookmark: bookmark(3, 'wall read as building', ['failure']),
    image: image(32, 'lindau_000001_000019_leftImg8bit.png'),
    segment: { id: 78, kind: 'misclassified', gt: 'wall', pred: 'building', area: 5120, x: 300, y: 410 },
    explanation: null,
    notes: [],
    problem: null
  },
  {
    bookmark: bookmark(2, 'clear rider', ['rider'], 'explanation'),
    image: image(33, 'munster_000002_000019_leftImg8bit.png'),
    segment: { id: 79, kind: 'correct', gt: 'rider', pred: 'rider', area: 800, x: 700, y: 500 },
    explanation: { id: 502, method: 'grid', className: 'rider', modelId: 2 },
    notes: [],
    problem: null
  },
  {
    bookmark: bookmark(1, 'street', [], 'image'),
    image: image(34, 'munster_000003_000019_leftImg8bit.png'),
    segment: null,
    explanation: null,
    notes: [],
    problem: null
  }
]

const url = (label: string) => `data:image/jpeg;base64,${btoa(label)}`
function thumbnails(ids: number[]): Record<string, BookmarkThumbnails> {
  return Object.fromEntries(
    ids.map((id) => [
      String(id),
      id === 1
        ? { image: null, prediction: null, saliency: null, problem: 'The image file munster_000003_000019_leftImg8bit.png is missing' }
        : { image: url(`image-${id}`), prediction: id === 3 ? null : url(`prediction-${id}`), saliency: url(`saliency-${id}`), problem: null }
    ])
  )
}

async function mountBookmarks(path = '/bookmarks') {
  const calls: Call[] = []
  const bridge: Bridge = {
    invoke: async (method, input): Promise<Reply<unknown>> => {
      const i = (input ?? {}) as Record<string, unknown>
      calls.push({ method, input: i })
      if (method === 'app:info') return { ok: true, result: info }
      if (method === 'project:current') return { ok: true, result: project }
      if (method === 'bookmarks:cases') return { ok: true, result: CASES }
      if (method === 'bookmarks:thumbnails') return { ok: true, result: thumbnails(i.ids as number[]) }
      if (method === 'bookmarks:remove') return { ok: true, result: { removed: true } }
      return { ok: false, error: { code: 'UNKNOWN_METHOD', message: method } }
    },
    onEvent: () => () => {}
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
  const rows = () => wrapper.findAll('[data-testid="bookmark-row"]')
  const titles = () => rows().map((r) => r.get('[data-testid="bookmark-row-title"]').text())
  const thumbnailCalls = () => calls.filter((c) => c.method === 'bookmarks:thumbnails').map((c) => c.input)
  const chip = (tag: string) => wrapper.get(`[data-testid="bookmark-tag"][data-tag="${tag}"]`)
  return { wrapper, router, calls, rows, titles, thumbnailCalls, chip }
}

describe('bookmarks screen', () => {
  it('shows each bookmark with image, prediction and saliency thumbnails, named by file and place, never by id', async () => {
    const { wrapper, rows, thumbnailCalls } = await mountBookmarks()
    expect(rows()).toHaveLength(4)
    // One request for the rows on screen, small thumbnails.
    expect(thumbnailCalls()).toEqual([{ ids: [4, 3, 2, 1], width: 192 }])

    const first = rows()[0]
    expect(first.get('[data-testid="bookmark-what"]').text()).toBe(
      'frankfurt_000000_000294_leftImg8bit.png (val) · rider at (1312, 540), 412 px, predicted as person · context explanation of person'
    )
    expect(first.get('[data-testid="bookmark-thumb-image"]').attributes('src')).toBe(url('image-4'))
    expect(first.get('[data-testid="bookmark-thumb-prediction"]').attributes('src')).toBe(url('prediction-4'))
    expect(first.get('[data-testid="bookmark-thumb-saliency"]').attributes('src')).toBe(url('saliency-4'))
    expect(first.get('[data-testid="bookmark-thumb-image"]').attributes('alt')).toBe('image of frankfurt_000000_000294_leftImg8bit.png')
    expect(first.get('[data-testid="bookmark-note"]').text()).toBe('Bicycle hidden behind the car.')
    // The explanation opens in the image view with its model, segment and explanation.
    expect(first.get('[data-testid="bookmark-open"]').attributes('href')).toBe('#/image?id=31&model=2&segment=77&explanation=501')

    // No stored prediction: said in its frame. A missing image file: said instead of the thumbnails.
    expect(rows()[1].find('[data-testid="bookmark-thumb-prediction"]').exists()).toBe(false)
    expect(rows()[1].get('[data-testid="bookmark-thumb-prediction-missing"]').text()).toBe('no prediction stored')
    // Bookmarked before any explanation: no saliency to show, and the frame says so instead of repeating the image.
    expect(rows()[1].find('[data-testid="bookmark-thumb-saliency"]').exists()).toBe(false)
    expect(rows()[1].get('[data-testid="bookmark-thumb-saliency-missing"]').text()).toBe('not explained yet')
    expect(rows()[3].get('[data-testid="bookmark-thumb-problem"]').text()).toBe('No thumbnails: The image file munster_000003_000019_leftImg8bit.png is missing')
    expect(rows()[3].find('img').exists()).toBe(false)

    // Database ids are link targets only: none is printed.
    const text = wrapper.get('[data-testid="bookmarks"]').text()
    for (const id of ['#4', '#77', '#501', 'segment 977', '901']) expect(text).not.toContain(id)
  })

  it('filters by tag with counts, narrowing on each chosen tag, keeps the choice in the URL, and lists the untagged', async () => {
    const { wrapper, router, titles, chip, thumbnailCalls } = await mountBookmarks()
    expect(wrapper.findAll('[data-testid="bookmark-tag"]').map((c) => c.text().replace(/\s+/g, ' '))).toEqual(['failure 2', 'rider 2'])
    expect(wrapper.get('[data-testid="bookmark-tag-untagged"]').text().replace(/\s+/g, ' ')).toBe('untagged 1')

    await chip('failure').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/bookmarks?tag=failure')
    expect(chip('failure').attributes('aria-pressed')).toBe('true')
    expect(titles()).toEqual(['rider taken for a person', 'wall read as building'])
    expect(wrapper.get('[data-testid="bookmark-count"]').text()).toBe('2 of 4 bookmarks')

    await chip('rider').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/bookmarks?tag=failure&tag=rider')
    expect(titles()).toEqual(['rider taken for a person'])

    await chip('failure').trigger('click')
    await flushPromises()
    expect(titles()).toEqual(['rider taken for a person', 'clear rider'])

    await wrapper.get('[data-testid="bookmark-tag-untagged"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/bookmarks?untagged=1')
    expect(titles()).toEqual(['street'])

    await wrapper.get('[data-testid="bookmark-tag-all"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/bookmarks')
    expect(titles()).toHaveLength(4)
    // Thumbnails were made once per bookmark, however the filter moved.
    expect(thumbnailCalls().flatMap((c) => c.ids as number[]).sort()).toEqual([1, 2, 3, 4])
  })

  it('opens on the filter a link carries, asks thumbnails only for what it shows, and removes a bookmark', async () => {
    const { wrapper, titles, thumbnailCalls, rows, calls } = await mountBookmarks('/bookmarks?tag=rider&tag=failure')
    expect(titles()).toEqual(['rider taken for a person'])
    expect(thumbnailCalls()).toEqual([{ ids: [4], width: 192 }])

    await rows()[0].get('button[aria-label^="Remove bookmark"]').trigger('click')
    await flushPromises()
    expect(calls.filter((c) => c.method === 'bookmarks:remove').map((c) => c.input)).toEqual([{ id: 4 }])
    expect(rows()).toHaveLength(0)
    expect(wrapper.get('[data-testid="bookmark-none"]').text()).toBe('No bookmark is tagged rider and failure.')
  })
})
