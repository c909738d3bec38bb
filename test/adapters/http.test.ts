import { mkdirSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startHttpServer, type RunningServer } from '@main/adapters/http'
import { ServiceContext } from '@main/services/context'
import { createDispatch } from '@main/services/dispatch'
import { createServices } from '@main/services/index'
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
})
