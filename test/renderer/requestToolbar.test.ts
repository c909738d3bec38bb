// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import OverlayControls from '@renderer/components/viewer/OverlayControls.vue'
import RequestToolbar from '@renderer/components/viewer/RequestToolbar.vue'
import type { Tool } from '@renderer/viewer/requestEditor'

describe('the request toolbar of the image view', () => {
  function mountToolbar(props: { polygonCorners: number; hasRequest: boolean }) {
    const w = mount(RequestToolbar, {
      props: { tool: 'pick' as Tool, brushRadius: 3, ...props, 'onUpdate:tool': (t: Tool) => w.setProps({ tool: t }), 'onUpdate:brushRadius': (r: number) => w.setProps({ brushRadius: r }) }
    })
    return w
  }
  const disabled = (w: ReturnType<typeof mountToolbar>, id: string) => w.get(`[data-testid="${id}"]`).attributes('disabled') !== undefined

  it('marks the chosen tool and shows the brush size only for the brush and eraser', async () => {
    const w = mountToolbar({ polygonCorners: 0, hasRequest: false })
    expect(w.get('[data-testid="tool-pick"]').attributes('aria-pressed')).toBe('true')
    expect(w.find('[aria-label="Brush size"]').exists()).toBe(false)
    await w.get('[data-testid="tool-eraser"]').trigger('click')
    expect(w.props('tool')).toBe('eraser')
    expect(w.get('[data-testid="tool-pick"]').attributes('aria-pressed')).toBe('false')
    await w.get('[aria-label="Brush size"]').setValue('12')
    expect(w.props('brushRadius')).toBe(12)
  })

  it('clears a request or an open polygon, zooms only to a request, and closes a polygon of three corners', async () => {
    const w = mountToolbar({ polygonCorners: 0, hasRequest: false })
    expect(disabled(w, 'clear-request')).toBe(true)
    expect(disabled(w, 'zoom-request')).toBe(true)
    await w.setProps({ polygonCorners: 2 })
    expect(disabled(w, 'clear-request')).toBe(false)
    expect(w.find('[data-testid="polygon-close"]').exists()).toBe(false)
    await w.setProps({ polygonCorners: 3 })
    await w.get('[data-testid="polygon-close"]').trigger('click')
    expect(w.emitted('closePolygon')).toHaveLength(1)
    await w.setProps({ polygonCorners: 0, hasRequest: true })
    await w.get('[data-testid="zoom-request"]').trigger('click')
    await w.get('[data-testid="clear-request"]').trigger('click')
    expect(w.emitted('zoom')).toHaveLength(1)
    expect(w.emitted('clear')).toHaveLength(1)
  })
})

describe('the overlay controls of the image view', () => {
  it('offer ground truth and prediction only when the image has them', async () => {
    const w = mount(OverlayControls, {
      props: { showGt: false, showPred: true, showSaliency: true, overlayOpacity: 0.5, saliencyOpacity: 0.85, hasGt: false, hasPred: true, 'onUpdate:showPred': (v: boolean) => w.setProps({ showPred: v }) }
    })
    expect(w.get('[data-testid="toggle-gt"]').attributes('disabled')).toBeDefined()
    await w.get('[data-testid="toggle-pred"]').setValue(false)
    expect(w.props('showPred')).toBe(false)
  })
})
