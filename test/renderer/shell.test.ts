// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import type { Bridge, Reply } from '@common/contract'

/**
 * The renderer under happy-dom. When the preload's bridge exists the shell must use it (not HTTP) and show
 * what it answers; the real services behind it are exercised end to end in test/e2e.
 */
async function mountWithBridge(bridge: Bridge) {
  window.ctxlens = bridge
  vi.resetModules()
  const { default: App } = await import('@renderer/App.vue')
  const { router } = await import('@renderer/router')
  setActivePinia(createPinia())
  const wrapper = mount(App, { global: { plugins: [router] } })
  await router.push('/datasets')
  await router.isReady()
  await flushPromises()
  return { wrapper, router }
}

describe('renderer shell', () => {
  it('uses the Electron bridge when present and shows the engine backend and the empty state', async () => {
    const calls: string[] = []
    const bridge: Bridge = {
      invoke: async (method) => {
        calls.push(method)
        const replies: Record<string, Reply<unknown>> = {
          'app:info': {
            ok: true,
            result: {
              appName: 'Context Lens', appVersion: '0.1.0', nodeVersion: '20', platform: 'linux-x64', transport: 'electron',
              backend: { name: 'cpu', tfBackend: 'cpu', skipped: [] }, onnxRuntime: { available: true, version: '1.30.0', provider: 'cpu', providers: ['cpu'] }, project: null
            }
          },
          'project:current': { ok: true, result: null }
        }
        return replies[method] ?? { ok: false, error: { code: 'UNKNOWN_METHOD', message: method } }
      },
      onEvent: () => () => undefined
    }
    const { wrapper } = await mountWithBridge(bridge)
    await flushPromises()
    expect(calls).toContain('app:info')
    expect(wrapper.get('[data-testid="backend"]').text()).toContain('cpu')
    expect(wrapper.get('[data-testid="onnx-runtime"]').text()).toBe('ONNX Runtime: CPU')
    expect(wrapper.get('[data-testid="transport"]').text()).toBe('desktop')
    expect(wrapper.get('[data-testid="empty-datasets"]').text()).toContain('Open a project')
  })

  it('shows a service error with its code instead of failing silently', async () => {
    const bridge: Bridge = {
      invoke: async (method) =>
        method === 'project:open'
          ? { ok: false, error: { code: 'PROJECT_OPEN_FAILED', message: 'No project file at /nowhere.ctxlens' } }
          : method === 'app:info'
            ? { ok: false, error: { code: 'BACKEND_UNAVAILABLE', message: 'no backend' } }
            : { ok: true, result: null },
      onEvent: () => () => undefined
    }
    const { wrapper } = await mountWithBridge(bridge)
    await wrapper.get('[data-testid="project-path"]').setValue('/nowhere.ctxlens')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[data-testid="error"]').text()).toContain('[PROJECT_OPEN_FAILED]')
  })
})
