import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startHttpServer, type RunningServer } from '@main/adapters/http'
import { ServiceContext } from '@main/services/context'
import { createDispatch } from '@main/services/dispatch'
import { createServices } from '@main/services/index'
import { fromWire, stringifyWire } from '@common/wire'
import { tempDir } from '../helpers/tempdir'

const dir = tempDir()
let server: RunningServer
let ctx: ServiceContext

beforeAll(async () => {
  const renderer = dir.file('renderer')
  mkdirSync(renderer)
  writeFileSync(`${renderer}/index.html`, '<!doctype html><title>Context Lens</title>')
  writeFileSync(`${renderer}/app.js`, 'console.log(1)')
  ctx = new ServiceContext('http', { backend: 'cpu' })
  server = await startHttpServer({ dispatch: createDispatch(createServices(ctx)), events: ctx.events, rendererDir: renderer })
})
afterAll(async () => {
  await server.close()
  ctx.dispose()
  dir.cleanup()
})

const base = () => `http://127.0.0.1:${server.port}`

async function call(method: string, body: string | object, token: string | null = server.token) {
  const res = await fetch(`${base()}/api/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { 'x-ctxlens-token': token } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  return { status: res.status, body: (await res.json()) as { ok: boolean; result?: unknown; error?: { code: string; message: string } } }
}

/** A request with exactly the headers given (fetch adds its own Sec-Fetch-Mode and may refuse some names). */
function raw(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/** The status a WebSocket handshake gets, or 'opened'. */
function upgrade(path: string, headers: Record<string, string> = {}, origin?: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { headers, ...(origin ? { origin } : {}) })
    ws.on('error', (e) => resolve(e.message))
    ws.on('open', () => {
      ws.close()
      resolve('opened')
    })
  })
}

describe('browser-mode server', () => {
  it('listens on 127.0.0.1 only and prints a URL with its token', () => {
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[0-9a-f]{48}$`))
  })

  it('refuses API calls without the token, or with a wrong one', async () => {
    expect(await call('app:info', {}, null)).toMatchObject({ status: 401, body: { ok: false, error: { code: 'UNAUTHORIZED' } } })
    expect(await call('app:info', {}, 'f'.repeat(48))).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } })
  })

  it('refuses pages without the token and serves them with it, setting a same-site cookie', async () => {
    expect((await fetch(`${base()}/`)).status).toBe(401)
    const res = await fetch(`${base()}/?token=${server.token}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('set-cookie')).toMatch(/ctxlens_token=.*HttpOnly; SameSite=Strict/)
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    const asset = await fetch(`${base()}/app.js`, { headers: { cookie: `ctxlens_token=${server.token}` } })
    expect(asset.status).toBe(200)
  })

  it('refuses requests addressed to another host name (DNS rebinding)', async () => {
    const status = await new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: `/?token=${server.token}`, headers: { host: `evil.example:${server.port}` } }, (res) =>
        resolve(res.statusCode ?? 0)
      )
      req.end()
    })
    expect(status).toBe(403)
  })

  it('answers malformed JSON, bad payloads and unknown methods with specific codes', async () => {
    expect(await call('project:open', '{"path": ')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_PAYLOAD' } } })
    expect(await call('project:open', { path: 7 })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_PAYLOAD' } } })
    expect(await call('nope:nothing', {})).toMatchObject({ status: 404, body: { error: { code: 'UNKNOWN_METHOD' } } })
    const get = await fetch(`${base()}/api/app:info`, { headers: { 'x-ctxlens-token': server.token } })
    expect(get.status).toBe(405)
  })

  it('makes a full round trip through the contract', async () => {
    const path = dir.file('http.ctxlens')
    expect(await call('project:create', { path, name: 'Over HTTP' })).toMatchObject({ status: 200, body: { ok: true, result: { name: 'Over HTTP' } } })
    const info = await call('app:info', {})
    expect(info.body).toMatchObject({ ok: true, result: { transport: 'http', project: { path } } })
  })

  it('carries typed arrays both ways as the wire codec\'s tagged base64, the values intact', async () => {
    // The adapter alone: a dispatch that answers with what it was given, beside a saliency map of its own.
    let received: unknown
    const echo = await startHttpServer({
      dispatch: async (_method, input) => {
        received = input
        return { ok: true, result: { mask: new Float32Array([0.25, 1, -0]), planes: [new Uint8Array([0, 255])] } }
      },
      events: ctx.events,
      rendererDir: dir.file('renderer')
    })
    try {
      const res = await fetch(`http://127.0.0.1:${echo.port}/api/explanations:list`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'x-ctxlens-token': echo.token },
        body: stringifyWire({ request: new Uint8Array([1, 0, 1]) })
      })
      const json = (await res.json()) as { result: { mask: unknown } }
      expect(json.result.mask).toEqual({ $typed: 'Float32Array', base64: expect.any(String) })
      const reply = fromWire(json) as { result: { mask: Float32Array; planes: Uint8Array[] } }
      expect(Array.from(reply.result.mask)).toEqual([0.25, 1, -0])
      expect(Array.from(reply.result.planes[0])).toEqual([0, 255])
      expect(received).toEqual({ request: new Uint8Array([1, 0, 1]) })
      // A tag that is no typed array is the caller's mistake, answered as such.
      const bad = await fetch(`http://127.0.0.1:${echo.port}/api/explanations:list`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'x-ctxlens-token': echo.token },
        body: JSON.stringify({ request: { $typed: 'Float32Array', base64: 'AQID' } })
      })
      expect(bad.status).toBe(400)
      expect(await bad.json()).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD', message: expect.stringMatching(/whole number of Float32Array/) } })
    } finally {
      await echo.close()
    }
  })

  it('pushes events to authorised WebSocket clients only', async () => {
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events?token=wrong`)
      ws.on('error', (e) => resolve(e.message))
      ws.on('open', () => resolve('opened'))
    })
    expect(refused).toMatch(/401/)

    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events?token=${server.token}`)
    await new Promise((r) => ws.on('open', r))
    const received = new Promise<unknown>((resolve) => ws.on('message', (d) => resolve(JSON.parse(String(d)))))
    ctx.events.log('info', 'hello from the engine')
    expect(await received).toMatchObject({ event: 'log', payload: { level: 'info', message: 'hello from the engine' } })
    ws.close()
  })

  it('refuses API calls from another page on the same machine, even with the cookie the browser sends along', async () => {
    const path = dir.file('from-elsewhere.ctxlens')
    const create = (headers: Record<string, string>) =>
      raw('/api/project:create', {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: `ctxlens_token=${server.token}`, ...headers },
        body: JSON.stringify({ path })
      })
    // What a page served on 127.0.0.1:8000 sends: a same-site request, so the SameSite=Strict cookie goes along.
    for (const headers of <Record<string, string>[]>[
      { origin: 'http://127.0.0.1:8000', 'sec-fetch-site': 'same-site' },
      { origin: 'http://127.0.0.1:8000' },
      { origin: `http://evil.example:${server.port}` },
      { origin: `https://127.0.0.1:${server.port}` },
      { origin: 'null' },
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'cross-site' }
    ]) {
      const res = await create(headers)
      expect(res.status, JSON.stringify(headers)).toBe(403)
      expect(JSON.parse(res.body)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } })
    }
    expect(existsSync(path)).toBe(false)
    // Pages from another site cannot even load the app's files (a <script src> or a link carries the cookie too).
    expect((await raw('/app.js', { headers: { cookie: `ctxlens_token=${server.token}`, 'sec-fetch-site': 'same-site' } })).status).toBe(403)
  })

  it('answers its own page, under either name, and callers that are no page at all (CLI, curl with the token)', async () => {
    for (const origin of [`http://127.0.0.1:${server.port}`, `http://localhost:${server.port}`]) {
      const res = await raw('/api/app:info', {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: `ctxlens_token=${server.token}`, origin, 'sec-fetch-site': 'same-origin' },
        body: '{}'
      })
      expect(res.status, origin).toBe(200)
    }
    const typedUrl = await raw(`/?token=${server.token}`, { headers: { 'sec-fetch-site': 'none' } })
    expect(typedUrl.status).toBe(200)
    const curl = await raw('/api/app:info', { method: 'POST', headers: { 'x-ctxlens-token': server.token }, body: '{}' })
    expect(curl.status).toBe(200)
  })

  it('refuses a WebSocket opened by another page, token or not', async () => {
    const cookie = { cookie: `ctxlens_token=${server.token}` }
    expect(await upgrade('/events', cookie, 'http://127.0.0.1:8000')).toMatch(/403/)
    expect(await upgrade(`/events?token=${server.token}`, {}, 'http://localhost:8000')).toMatch(/403/)
    expect(await upgrade('/events', { ...cookie, 'sec-fetch-site': 'same-site' })).toMatch(/403/)
    expect(await upgrade('/events', cookie, `http://localhost:${server.port}`)).toBe('opened')
    expect(await upgrade('/events', cookie, `http://127.0.0.1:${server.port}`)).toBe('opened')
  })

  it('answers a malformed path or cookie as a bad request, not an internal error', async () => {
    const cookie = { cookie: `ctxlens_token=${server.token}` }
    const page = await raw('/%', { headers: cookie })
    expect(page.status).toBe(400)
    expect(JSON.parse(page.body)).toMatchObject({ error: { code: 'INVALID_PAYLOAD', message: expect.stringMatching(/percent-encoding/) } })
    expect((await raw('/assets/%E0%A4%A', { headers: cookie })).status).toBe(400)
    const api = await raw('/api/app:%zz', { method: 'POST', headers: { 'x-ctxlens-token': server.token }, body: '{}' })
    expect(api.status).toBe(400)
    // A mangled cookie is no token: 401 like any missing one.
    expect((await raw('/', { headers: { cookie: 'ctxlens_token=%' } })).status).toBe(401)
    expect(await upgrade('/events', { cookie: 'ctxlens_token=%' })).toMatch(/401/)
    // The server is still there.
    expect((await raw('/', { headers: cookie })).status).toBe(200)
  })

  it('names a file that is not what it should be without echoing its content (benchmark:run configFile)', async () => {
    const configFile = dir.file('passwd')
    writeFileSync(configFile, 'hunter2:x:0:0:root:/root:/bin/bash\n')
    const res = await call('benchmark:run', { configFile })
    expect(res).toMatchObject({ status: 400, body: { ok: false, error: { code: 'INVALID_PARAMETERS', message: expect.stringContaining(`${configFile} is not valid JSON`) } } })
    expect(res.body.error?.message).not.toContain('hunter2')
  })

  it('refuses a relative path instead of resolving it against the folder the server was started from', async () => {
    const name = `landed-${process.pid}.ctxlens`
    try {
      const res = await call('project:create', { path: name })
      expect(res).toMatchObject({ status: 400, body: { ok: false, error: { code: 'INVALID_PAYLOAD', message: expect.stringContaining('path: the project file must be an absolute path') } } })
      expect(existsSync(resolve(name))).toBe(false)
    } finally {
      // Only a server that got it wrong leaves these behind, in the folder the tests run from.
      for (const f of [name, `${name}-wal`, `${name}-shm`]) rmSync(resolve(f), { force: true })
    }
  })
})
