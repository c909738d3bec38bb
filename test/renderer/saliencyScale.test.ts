// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import SaliencyScale from '@renderer/components/SaliencyScale.vue'

describe('saliency colour scale', () => {
  it('reads 0 to 1 for grid and context saliency (a mask), 0 to max for gradient maps', () => {
    for (const method of ['grid', 'context']) {
      const w = mount(SaliencyScale, { props: { method, opacity: 0.85 } })
      expect(w.get('[data-testid="saliency-scale-low"]').text()).toBe('0')
      expect(w.get('[data-testid="saliency-scale-high"]').text()).toBe('1')
      expect(w.text()).toContain('needed to keep the prediction')
    }
    for (const method of ['vg', 'ig', 'sg']) {
      const w = mount(SaliencyScale, { props: { method, opacity: 0.85 } })
      expect(w.get('[data-testid="saliency-scale-high"]').text()).toBe('max')
      expect(w.text()).toContain("relative to this map's maximum")
    }
  })

  it('draws the bar from clear to red at the overlay\'s own opacity, so it matches the canvas', async () => {
    const w = mount(SaliencyScale, { props: { method: 'context', opacity: 0.85 } })
    const style = () => w.get('[data-testid="saliency-scale-bar"]').attributes('style') ?? ''
    expect(style()).toMatch(/rgba\(255, 0, 0, 0\).*rgba\(255, 0, 0, 0\.85\)/)
    await w.setProps({ opacity: 0.3 })
    expect(style()).toMatch(/rgba\(255, 0, 0, 0\.3\)/)
  })
})
