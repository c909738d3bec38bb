// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import type { Bridge } from '@common/contract'

/** The dataset browser over 10,000 images: only what is in view reaches the DOM and the services. */
describe('dataset browser', () => {
  it('renders a window of tiles over 10,000 images and asks only for the first page and its thumbnails', async () => {
    const calls: { method: string; input: Record<string, unknown> }[] = []
    const TOTAL = 10_000
    const bridge: Bridge = {
      invoke: async (method, input) => {
        const i = input as Record<string, unknown>
        calls.push({ method, input: i })
        if (method === 'images:list') {
          const offset = (i.offset as number) ?? 0
          const limit = (i.limit as number) ?? 200
          const n = i.error ? 3 : TOTAL
          const items = Array.from({ length: Math.max(0, Math.min(limit, n - offset)) }, (_, k) => ({
            id: offset + k + 1, datasetId: 1, path: `img/${offset + k}.png`, split: 'val', width: 64, height: 32, errors: 0, explanations: 0, bookmarked: false
          }))
          return { ok: true, result: { total: n, items, bySplit: { val: n } } }
        }
        if (method === 'images:thumbnails') return { ok: true, result: Object.fromEntries((i.ids as number[]).map((id) => [String(id), 'data:image/webp;base64,AA=='])) }
        if (method === 'images:classes') return { ok: true, result: [{ id: 6, name: 'person', color: [220, 20, 60] }, { id: 7, name: 'rider', color: [255, 0, 0] }] }
        return { ok: true, result: [] }
      },
      onEvent: () => () => undefined
    }
    window.ctxlens = bridge
    vi.resetModules()
    const { default: ImageBrowser } = await import('@renderer/components/ImageBrowser.vue')
    const { router } = await import('@renderer/router')
    setActivePinia(createPinia())
    await router.push('/datasets')
    await router.isReady()
    const wrapper = mount(ImageBrowser, {
      props: { datasets: [{ id: 1, name: 'd', format: 'folder', root: '/', classSetId: 1, imageCount: TOTAL, splits: { val: TOTAL }, createdAt: '' }] },
      global: { plugins: [router] }
    })
    await flushPromises()
    await new Promise((r) => setTimeout(r, 100))
    await flushPromises()
    expect(wrapper.get('[data-testid="image-count"]').text()).toContain('10000 images')
    const tiles = wrapper.findAll('[data-testid="image-tile"]')
    expect(tiles.length).toBeGreaterThan(5)
    expect(tiles.length).toBeLessThan(100)
    const lists = calls.filter((c) => c.method === 'images:list')
    expect(lists.map((c) => c.input.offset)).toEqual([0])
    const thumbs = calls.filter((c) => c.method === 'images:thumbnails').flatMap((c) => c.input.ids as number[])
    expect(thumbs.length).toBe(tiles.length)

    // An error filter goes into the URL and reloads from the first page.
    await wrapper.get('[data-testid="filter-error-gt"]').setValue('6')
    await wrapper.get('[data-testid="filter-error-pred"]').setValue('7')
    await flushPromises()
    await new Promise((r) => setTimeout(r, 20))
    await flushPromises()
    expect(router.currentRoute.value.query.error).toBe('6-7')
    expect(calls.filter((c) => c.method === 'images:list').at(-1)!.input.error).toEqual({ gt: 6, pred: 7 })
    expect(wrapper.get('[data-testid="image-count"]').text()).toContain('3 images with person predicted as rider')

    // One side "any" filters on its own: rider → any.
    await wrapper.get('[data-testid="filter-error-gt"]').setValue('7')
    await wrapper.get('[data-testid="filter-error-pred"]').setValue('')
    await flushPromises()
    await new Promise((r) => setTimeout(r, 20))
    await flushPromises()
    expect(router.currentRoute.value.query.error).toBe('7-any')
    expect(calls.filter((c) => c.method === 'images:list').at(-1)!.input.error).toEqual({ gt: 7 })
    expect(wrapper.get('[data-testid="image-count"]').text()).toContain('3 images with rider predicted as another class')

    // And from the URL, as a link or a reload brings it: any → person.
    await router.replace({ path: '/datasets', query: { error: 'any-6' } })
    await flushPromises()
    await new Promise((r) => setTimeout(r, 20))
    await flushPromises()
    expect(calls.filter((c) => c.method === 'images:list').at(-1)!.input.error).toEqual({ pred: 6 })
    expect((wrapper.get('[data-testid="filter-error-gt"]').element as HTMLSelectElement).value).toBe('')
    expect((wrapper.get('[data-testid="filter-error-pred"]').element as HTMLSelectElement).value).toBe('6')

    // Both "any" is no filter at all.
    await wrapper.get('[data-testid="filter-error-pred"]').setValue('')
    await flushPromises()
    await new Promise((r) => setTimeout(r, 20))
    await flushPromises()
    expect(router.currentRoute.value.query.error).toBeUndefined()
    expect(calls.filter((c) => c.method === 'images:list').at(-1)!.input.error).toBeUndefined()
    expect(wrapper.get('[data-testid="image-count"]').text()).toContain('10000 images')
  })
})
