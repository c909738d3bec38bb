import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, screenshot, startServer, type ServerProcess } from './harness'
import { ShellPage } from './pages/ShellPage'

let server: ServerProcess
let browser: Browser
let page: Page
const dir = mkdtempSync(join(tmpdir(), 'ctxlens-e2e-'))

beforeAll(async () => {
  // A home of its own: the Jobs and Benchmark screens list the home's benchmark runs, which must not be the user's.
  server = await startServer([], { CTXLENS_HOME: join(dir, 'home') })
  browser = await launchBrowser()
  page = await browser.newPage({ colorScheme: 'light' })
})
afterAll(async () => {
  await browser?.close()
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('browser mode in Chromium', () => {
  it('refuses the page without the token', async () => {
    const res = await page.goto(server.origin + '/')
    expect(res?.status()).toBe(401)
  })

  it('shows the shell with the engine backend that the server reports', async () => {
    const shell = new ShellPage(page)
    await shell.open(server.url)
    // The badge text comes from app:info, answered by the server's engine: a full round trip through the contract.
    const api = (await (await fetch(`${server.origin}/api/app:info`, { method: 'POST', headers: { 'x-ctxlens-token': server.token } })).json()) as { result: { backend: { name: string } } }
    await expect.poll(() => shell.backendBadge.textContent()).toContain(api.result.backend.name)
    expect(await page.getByTestId('transport').textContent()).toBe('browser mode')
    // The token leaves the address bar once it is stored.
    expect(page.url()).not.toContain('token=')
    await screenshot(page, '01-shell-no-project')
  })

  it('moves between every screen, each with an empty state that says what to do next', async () => {
    const shell = new ShellPage(page)
    for (const screen of ['image', 'errors', 'jobs', 'reports', 'benchmark', 'datasets'] as const) {
      const empty = await shell.goTo(screen)
      expect((await empty.textContent())!.length).toBeGreaterThan(60)
    }
    // Keyboard: Alt+J opens Jobs, `?` lists the shortcuts.
    await page.keyboard.press('Alt+j')
    await page.getByTestId('empty-jobs').waitFor()
    await page.keyboard.press('?')
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor()
    await screenshot(page, '02-shortcuts')
    await page.keyboard.press('Escape')
  })

  it('creates a project through the UI and shows it, and reports a bad path with its error code', async () => {
    const shell = new ShellPage(page)
    await shell.goTo('datasets')
    await shell.openProject(join(dir, 'missing.ctxlens'))
    await expect.poll(() => shell.errorBanner.textContent()).toContain('PROJECT_OPEN_FAILED')
    // A relative path would mean the server's own working folder: refused, naming the field.
    await shell.openProject('relative.ctxlens')
    await expect.poll(() => shell.errorBanner.textContent()).toContain('must be an absolute path')
    const path = join(dir, 'e2e.ctxlens')
    await shell.createProject(path)
    await expect.poll(() => shell.projectName.textContent()).toBe('e2e')
    await expect.poll(() => page.getByTestId('empty-datasets').textContent()).toContain('No datasets yet')
    await screenshot(page, '03-project-created')
    // The server really holds it: ask over the API.
    const current = (await (await fetch(`${server.origin}/api/project:current`, { method: 'POST', headers: { 'x-ctxlens-token': server.token } })).json()) as { result: { path: string } }
    expect(current.result.path).toBe(path)
  })

  it('refuses calls and the event socket from a page another local program serves, cookie or not', async () => {
    // Another program's page on 127.0.0.1: the same site, so Chromium sends the SameSite=Strict cookie that this
    // context holds since the app was opened with its token.
    const other = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<!doctype html><title>another local page</title>')
    })
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r))
    const context = await browser.newContext()
    await new ShellPage(await context.newPage()).open(server.url)
    expect((await context.cookies(server.origin)).map((c) => c.name)).toContain('ctxlens_token')
    const foreign = await context.newPage()
    try {
      await foreign.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`)
      const planted = join(dir, 'planted.ctxlens')
      // A simple request (text/plain, no-cors) needs no preflight: the body reaches the server unless it refuses.
      await foreign.evaluate(
        async ([url, path]) => {
          await fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ path }) })
        },
        [`${server.origin}/api/project:create`, planted]
      )
      expect(existsSync(planted)).toBe(false)
      const socket = await foreign.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(url)
            ws.onopen = () => resolve('opened')
            ws.onerror = () => resolve('refused')
          }),
        `${server.origin.replace('http:', 'ws:')}/events`
      )
      expect(socket).toBe('refused')
    } finally {
      await context.close()
      await new Promise((r) => other.close(r))
    }
  })

  it('follows the dark preference of the OS', async () => {
    const dark = await browser.newPage({ colorScheme: 'dark' })
    await new ShellPage(dark).open(server.url)
    const bg = await dark.evaluate('getComputedStyle(document.body).backgroundColor')
    expect(bg).toBe('rgb(20, 23, 28)')
    await screenshot(dark, '04-dark')
    await dark.close()
  })
})
