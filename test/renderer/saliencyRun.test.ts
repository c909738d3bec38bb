// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia'
import { effectScope } from 'vue'
import { describe, expect, it, vi } from 'vitest'
import type { AnyEvent, Bridge, Input, Reply } from '@common/contract'
import type { ExplanationView } from '@common/methods/viewer'

const input: Input<'explain:segment'> = { imageId: 3, modelId: 1, request: { segmentIds: [12] }, classId: 7, method: 'context', preset: 'cityscapes', params: { steps: 20 } }
const stored = { id: 41, method: 'context', classId: 7 } as ExplanationView

/**
 * The composable over a fake preload bridge: `answer` settles the pending `explain:segment` call, `push` delivers an
 * event to the renderer's listeners the way the real bridge does.
 */
async function setup() {
  const calls: { method: string; input: unknown }[] = []
  const listeners = new Set<(e: AnyEvent) => void>()
  let answer: (reply: Reply<unknown>) => void = () => {}
  const bridge: Bridge = {
    invoke: (method, i) => {
      calls.push({ method, input: i })
      if (method === 'explain:segment') return new Promise((resolve) => (answer = resolve))
      return Promise.resolve({ ok: true, result: null })
    },
    onEvent: (l) => {
      listeners.add(l)
      return () => listeners.delete(l)
    }
  }
  window.ctxlens = bridge
  vi.resetModules()
  const { useSaliencyRun } = await import('@renderer/viewer/saliencyRun')
  const { useAppStore } = await import('@renderer/stores/app')
  setActivePinia(createPinia())
  const app = useAppStore()
  const seen: { result: ExplanationView; running: boolean }[] = []
  const scope = effectScope()
  const run = scope.run(() => useSaliencyRun({ onResult: (result) => seen.push({ result, running: run.running.value }) }))!
  const push = (payload: Partial<AnyEvent['payload']> & { label: string; state: string }) =>
    listeners.forEach((l) => l({ event: 'task:progress', payload: { taskId: 5, done: 0, total: 0, ...payload } } as AnyEvent))
  return { run, app, calls, seen, scope, listeners, push, answer: (r: Reply<unknown>) => answer(r) }
}

describe('a saliency run of the image view', () => {
  it("follows its task's progress, cancels that task, and reports a cancel as a status, not an error", async () => {
    const t = await setup()
    const done = t.run.start({ ...input })
    expect(t.run.running.value).toBe(true)
    expect(t.run.progress.value).toEqual({ done: 0, total: 0 })
    // Another task's progress (a dataset being generated) is not this run's.
    t.push({ taskId: 2, label: 'generate dataset', state: 'running', done: 3, total: 9 })
    expect(t.run.taskId.value).toBeNull()
    t.push({ label: 'explain image 3', state: 'running', done: 0, total: 0, message: 'waiting for a worker' })
    expect(t.run.progress.value).toEqual({ done: 0, total: 0, message: 'waiting for a worker' })
    t.push({ label: 'explain image 3', state: 'running', done: 4, total: 20 })
    expect(t.run.progress.value).toEqual({ done: 4, total: 20 })
    await t.run.cancel()
    expect(t.calls.at(-1)).toEqual({ method: 'tasks:cancel', input: { taskId: 5 } })
    t.answer({ ok: false, error: { code: 'CANCELLED', message: 'cancelled' } })
    await done
    expect(t.run.running.value).toBe(false)
    expect(t.run.progress.value).toBeNull()
    expect(t.run.taskId.value).toBeNull()
    expect(t.run.status.value).toBe('Cancelled; nothing was stored.')
    expect(t.app.error).toBeNull()
    expect(t.seen).toEqual([])
  })

  it('hands the stored explanation over while still running, clears an old error, and runs one at a time', async () => {
    const t = await setup()
    t.app.error = 'an earlier failure [INTERNAL]'
    const done = t.run.start({ ...input })
    await t.run.start({ ...input })
    expect(t.calls.filter((c) => c.method === 'explain:segment')).toEqual([{ method: 'explain:segment', input }])
    t.answer({ ok: true, result: stored })
    await done
    expect(t.seen).toEqual([{ result: stored, running: true }])
    expect(t.run.running.value).toBe(false)
    expect(t.app.error).toBeNull()
  })

  it('puts other failures in the banner, and stops listening when its component goes', async () => {
    const t = await setup()
    const done = t.run.start({ ...input })
    t.answer({ ok: false, error: { code: 'INVALID_PARAMETERS', message: 'mask 64×64 is finer than the image 32×32' } })
    await done
    expect(t.app.error).toBe('mask 64×64 is finer than the image 32×32 [INVALID_PARAMETERS]')
    expect(t.run.status.value).toBeNull()
    // The app store listens too; only the run's own listener goes with its scope.
    const before = t.listeners.size
    t.scope.stop()
    expect(t.listeners.size).toBe(before - 1)
  })
})
