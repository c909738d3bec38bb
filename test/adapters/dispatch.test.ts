import { afterAll, describe, expect, it } from 'vitest'
import { ServiceContext } from '@main/services/context'
import { createDispatch } from '@main/services/dispatch'
import { createServices } from '@main/services/index'
import { registerIpcHandlers, type IpcMainLike } from '@main/adapters/ipc'
import { METHODS } from '@common/contract'
import { tempDir } from '../helpers/tempdir'

const dir = tempDir()
afterAll(() => dir.cleanup())

function setup() {
  const ctx = new ServiceContext('cli', { backend: 'cpu' })
  return { ctx, dispatch: createDispatch(createServices(ctx)) }
}

describe('dispatch (shared by every adapter)', () => {
  it('refuses an unknown method with UNKNOWN_METHOD', async () => {
    const { dispatch } = setup()
    expect(await dispatch('project:drop', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } })
    expect(await dispatch('__proto__', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } })
  })

  it('refuses a payload of the wrong shape with INVALID_PAYLOAD naming the field', async () => {
    const { dispatch } = setup()
    const wrongType = await dispatch('project:open', { path: 42 })
    expect(wrongType).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } })
    if (!wrongType.ok) expect((wrongType.error.details as { issues: { path: string }[] }).issues[0].path).toBe('path')
    expect(await dispatch('project:open', 'not an object')).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } })
    expect(await dispatch('app:info', { unexpected: true })).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } })
    expect(await dispatch('bookmarks:add', { targetKind: 'galaxy', targetId: 1 })).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } })
    expect(await dispatch('bookmarks:add', { targetKind: 'image', targetId: -3 })).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } })
  })

  it('says that a project is needed before project-scoped calls', async () => {
    const { dispatch } = setup()
    expect(await dispatch('datasets:list', {})).toMatchObject({ ok: false, error: { code: 'NO_PROJECT_OPEN' } })
  })

  it('answers a valid call with its result', async () => {
    const { ctx, dispatch } = setup()
    const path = dir.file('d.ctxlens')
    const created = await dispatch('project:create', { path, name: 'Dispatch' })
    expect(created).toMatchObject({ ok: true, result: { name: 'Dispatch', path } })
    expect(await dispatch('datasets:list', {})).toEqual({ ok: true, result: [] })
    const info = await dispatch('app:info', {})
    expect(info).toMatchObject({ ok: true, result: { backend: { name: 'cpu', forcedBy: 'flag' }, project: { path } } })
    ctx.dispose()
  })
})

describe('IPC adapter', () => {
  function fakeIpcMain() {
    const handlers = new Map<string, (event: { senderFrame?: { url: string } | null }, input: unknown) => unknown>()
    const ipc: IpcMainLike = { handle: (c, l) => void handlers.set(c, l), removeHandler: (c) => void handlers.delete(c) }
    return { ipc, handlers }
  }

  it('registers one channel per contract method and validates what arrives', async () => {
    const { dispatch } = setup()
    const { ipc, handlers } = fakeIpcMain()
    const dispose = registerIpcHandlers(ipc, dispatch, (url) => url.startsWith('file:///app/'))
    expect([...handlers.keys()].sort()).toEqual([...METHODS].sort())
    const frame = { senderFrame: { url: 'file:///app/index.html' } }
    expect(await handlers.get('project:open')!(frame, { path: ['x'] })).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } })
    expect(await handlers.get('app:info')!(frame, {})).toMatchObject({ ok: true })
    dispose()
    expect(handlers.size).toBe(0)
  })

  it('refuses calls from frames the app did not load', async () => {
    const { dispatch } = setup()
    const { ipc, handlers } = fakeIpcMain()
    registerIpcHandlers(ipc, dispatch, (url) => url.startsWith('file:///app/'))
    expect(await handlers.get('app:info')!({ senderFrame: { url: 'https://evil.example/' } }, {})).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHORIZED' }
    })
  })
})

describe('contract assembly', () => {
  it('names a method that two areas both declare', async () => {
    const { duplicateMethodNames } = await import('@common/contract')
    expect(duplicateMethodNames([{ 'a:x': 1, 'a:y': 2 }, { 'b:z': 3 }])).toEqual([])
    expect(duplicateMethodNames([{ 'a:x': 1 }, { 'a:x': 2, 'b:z': 3 }])).toEqual(['a:x'])
  })
})
