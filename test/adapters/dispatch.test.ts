import { afterAll, describe, expect, it } from 'vitest'
import { ServiceContext } from '@main/services/context'
import { createDispatch } from '@main/services/dispatch'
import { createServices } from '@main/services/index'
import { registerIpcHandlers, type IpcMainLike } from '@main/adapters/ipc'
import { contract, METHODS } from '@common/contract'
import type { z } from 'zod'
import { tempDir } from '../helpers/tempdir'

const dir = tempDir()
afterAll(() => dir.cleanup())

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; options?: z.ZodType[]; element?: z.ZodType; in?: z.ZodType; out?: z.ZodType }
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def

/** Every string field of a schema whose name says it holds a file or folder, with where it sits. */
function pathFields(schema: z.ZodType, at: string[] = []): { at: string; schema: z.ZodType }[] {
  const def = defOf(schema)
  const name = at[at.length - 1] ?? ''
  if (def.type === 'string') return /^(path|dir|root)$|(Path|Dir|File)$/.test(name) ? [{ at: at.join('.'), schema }] : []
  if (def.type === 'object') return Object.entries(def.shape ?? {}).flatMap(([k, v]) => pathFields(v, [...at, k]))
  if (def.type === 'union') return (def.options ?? []).flatMap((o) => pathFields(o, at))
  if (def.type === 'pipe') return [...pathFields(def.in!, at), ...pathFields(def.out!, at)]
  const inner = def.innerType ?? def.element
  return inner ? pathFields(inner, at) : []
}

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

  it('takes absolute paths only, in every path field of every method, so none means the server process\'s folder', async () => {
    const fields = METHODS.flatMap((m) => pathFields(contract[m].input as z.ZodType).map((f) => ({ ...f, at: `${m} ${f.at}` })))
    // The walk finds the fields (a walk that finds nothing would pass vacuously).
    expect(fields.map((f) => f.at)).toEqual(
      expect.arrayContaining([
        'project:open path',
        'project:create path',
        'datasets:import root',
        'datasets:generateTextureMnist outDir',
        'datasets:generateTextureMnist mnistDir',
        'explain:image modelDir',
        'explain:image imagePath',
        'explain:image request.path',
        'explain:image outDir',
        'models:inspect path',
        'models:describe path',
        'models:add dir',
        'audit:exportStats path',
        'audit:demo projectPath',
        'audit:demo modelDir',
        'reports:save path',
        'benchmark:run configFile',
        'benchmark:run outDir',
        'benchmark:summary runDir',
        'models:exportOnnx modelDir',
        'models:exportOnnx path'
      ])
    )
    for (const f of fields) {
      const relative = f.schema.safeParse('data/some.file')
      expect(relative.success, f.at).toBe(false)
      expect(relative.error?.issues[0].message, f.at).toMatch(/must be an absolute path, and "data\/some\.file" is not/)
      expect(f.schema.safeParse(dir.file('some.file')).success, f.at).toBe(true)
    }

    const { ctx, dispatch } = setup()
    // A name that does not exist anywhere: a dispatch that took it would create it in the tests' working folder.
    const reply = await dispatch('project:create', { path: 'no-such-folder-ctxlens/landed-here.ctxlens' })
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD', message: expect.stringContaining('path: the project file must be an absolute path') } })
    // A class list named by file is a path too; a preset name or the entries themselves are not.
    const classes = await dispatch('models:inspect', { path: dir.file('m.onnx'), description: { classes: 'lists/classes.csv' } })
    expect(classes).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD', details: { issues: [{ path: 'description.classes' }] } } })
    expect(await dispatch('models:inspect', { path: dir.file('m.onnx'), description: { classes: 'cityscapes' } })).not.toMatchObject({ error: { code: 'INVALID_PAYLOAD' } })
    ctx.dispose()
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
