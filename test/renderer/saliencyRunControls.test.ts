// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import SaliencyRunControls from '@renderer/components/viewer/SaliencyRunControls.vue'

const idle = { canRun: true, running: false, progress: null, status: null }

describe('the run controls of the image view', () => {
  it('runs only with a request and a model, and not twice at once', async () => {
    const w = mount(SaliencyRunControls, { props: idle })
    await w.get('[data-testid="run"]').trigger('click')
    expect(w.emitted('run')).toHaveLength(1)
    expect(w.find('[data-testid="cancel"]').exists()).toBe(false)
    await w.setProps({ canRun: false })
    expect(w.get('[data-testid="run"]').attributes('disabled')).toBeDefined()
    await w.setProps({ canRun: true, running: true, progress: { done: 0, total: 0 } })
    expect(w.get('[data-testid="run"]').attributes('disabled')).toBeDefined()
    await w.get('[data-testid="cancel"]').trigger('click')
    expect(w.emitted('cancel')).toHaveLength(1)
  })

  it("counts steps while running, says what a queued run waits for, and keeps the outcome's status", async () => {
    const w = mount(SaliencyRunControls, { props: { ...idle, running: true, progress: { done: 0, total: 0 } } })
    expect(w.get('[data-testid="progress"]').text()).toBe('0 / … steps')
    await w.setProps({ progress: { done: 0, total: 0, message: 'Waiting for a worker: the only worker is busy' } })
    expect(w.get('[data-testid="progress-message"]').text()).toBe('Waiting for a worker: the only worker is busy')
    await w.setProps({ progress: { done: 40, total: 300 } })
    expect(w.get('[data-testid="progress"]').text()).toBe('40 / 300 steps')
    expect(w.get('progress').attributes('max')).toBe('300')
    await w.setProps({ running: false, progress: null, status: 'Cancelled; nothing was stored.' })
    expect(w.find('[data-testid="progress"]').exists()).toBe(false)
    expect(w.get('[data-testid="run-status"]').text()).toBe('Cancelled; nothing was stored.')
  })
})
