// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import type { AnyEvent, Bridge, Reply } from '@common/contract'

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

  it('shows background work in the shell on every screen, linked to Jobs, and not the interactive runs', async () => {
    const listeners = new Set<(e: AnyEvent) => void>()
    const project = { path: '/p/demo.ctxlens', name: 'demo', schemaVersion: 9, createdAt: '2026-01-01', counts: { datasets: 1, images: 300, models: 1, explanations: 0 } }
    const bridge: Bridge = {
      invoke: async (method) => {
        const replies: Record<string, Reply<unknown>> = {
          'app:info': {
            ok: true,
            result: {
              appName: 'Context Lens', appVersion: '0.1.0', nodeVersion: '20', platform: 'linux-x64', transport: 'electron',
              backend: { name: 'cpu', tfBackend: 'cpu', skipped: [] }, onnxRuntime: { available: true, version: '1.30.0', provider: 'cpu', providers: ['cpu'] }, project
            }
          },
          'project:current': { ok: true, result: project },
          'jobs:list': {
            ok: true,
            result: [
              { id: 3, kind: 'audit', state: 'running', done: 120, failed: 8, total: 368, createdAt: '2026-01-01', updatedAt: '2026-01-01', error: null },
              { id: 2, kind: 'audit', state: 'done', done: 10, failed: 0, total: 10, createdAt: '2026-01-01', updatedAt: '2026-01-01', error: null }
            ]
          }
        }
        return replies[method] ?? { ok: true, result: [] }
      },
      onEvent: (l) => {
        listeners.add(l)
        return () => listeners.delete(l)
      }
    }
    const { wrapper } = await mountWithBridge(bridge)
    await flushPromises()
    const push = async (e: AnyEvent): Promise<void> => {
      for (const l of listeners) l(e)
      await flushPromises()
    }
    const bar = () => wrapper.find('[data-testid="background-work"]')
    expect(bar().exists()).toBe(true)
    expect(bar().text()).toContain('Audit 3')
    expect(bar().text()).toContain('128 / 368')
    expect(bar().attributes('href')).toContain('/jobs')

    await push({ event: 'job:progress', payload: { jobId: 3, state: 'running', done: 200, failed: 8, total: 368, ratePerSecond: 0.5, etaSeconds: 320 } })
    expect(bar().text()).toContain('208 / 368')
    expect(bar().text()).toContain('ETA 5m 20s')

    // An explanation the user waits for on the image screen is shown there, not as background work.
    await push({ event: 'task:progress', payload: { taskId: 9, label: 'explain grid', state: 'running', done: 3, total: 300, interactive: true } })
    expect(wrapper.find('[data-testid="background-more"]').exists()).toBe(false)
    await push({ event: 'task:progress', payload: { taskId: 10, label: 'report', state: 'running', done: 1, total: 5, message: 'figures' } })
    expect(wrapper.get('[data-testid="background-more"]').text()).toBe('+1 more')

    await push({ event: 'job:progress', payload: { jobId: 3, state: 'done', done: 360, failed: 8, total: 368, ratePerSecond: null, etaSeconds: null } })
    expect(bar().text()).toContain('report: figures')
    await push({ event: 'task:progress', payload: { taskId: 10, label: 'report', state: 'done', done: 5, total: 5 } })
    expect(bar().exists()).toBe(false)
  })
})
