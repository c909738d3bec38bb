import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { fromWire } from '../../src/common/wire'

const root = join(import.meta.dirname, '..', '..')
export const screenshotDir = join(root, 'test', 'e2e', 'screenshots')

/** Chromium from the system (Debian's package); Playwright cannot download its own browser on these machines. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[]
  const found = candidates.find((p) => existsSync(p))
  if (!found) throw new Error('No Chromium found: install it (apt-get install -y chromium) or set CHROMIUM_PATH')
  return found
}

export interface ServerProcess {
  url: string
  origin: string
  token: string
  stop(): Promise<void>
}

/**
 * `npm run serve` as a user runs it (the built server), on a free port, reading the URL it prints. `env` adds to
 * the environment (CTXLENS_HOME for a project whose thumbnails and data live in a temporary home).
 */
export function startServer(args: string[] = [], env: Record<string, string> = {}): Promise<ServerProcess> {
  const entry = join(root, 'out', 'main', 'server.js')
  if (!existsSync(entry)) throw new Error('The app is not built; run `npm run build` (npm run test:e2e does it)')
  const child: ChildProcess = spawn(process.execPath, [entry, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root, env: { ...process.env, ...env } })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000)
    const onData = (d: Buffer): void => {
      out += d.toString()
      const m = out.match(/Context Lens browser mode: (http:\/\/127\.0\.0\.1:\d+\/\?token=([0-9a-f]+))/)
      if (m) {
        clearTimeout(timer)
        resolve({
          url: m[1],
          origin: new URL(m[1]).origin,
          token: m[2],
          stop: () =>
            new Promise((r) => {
              child.once('exit', () => r())
              child.kill('SIGTERM')
            })
        })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)))
  })
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // No sandbox as root in CI containers; no background networking: this machine has no network to reach.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
}

/**
 * A PNG of the page in test/e2e/screenshots. The shell keeps its height to the window and scrolls the screen
 * inside it, so `wholeScreen` lets it grow for the shot: a long screen (a report) is then captured to its end.
 */
export async function screenshot(page: Page, name: string, options: { wholeScreen?: boolean } = {}): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true })
  const path = join(screenshotDir, `${name}.png`)
  const grow = options.wholeScreen ? await page.addStyleTag({ content: '.shell { height: auto !important; min-height: 100vh; } .content { overflow: visible !important; }' }) : null
  await page.screenshot({ path, fullPage: true })
  await grow?.evaluate('(el) => el.remove()')
  return path
}

/** A service call over the HTTP API with the server's token, as the renderer makes it; a failure throws its code. */
export async function callApi<T>(server: ServerProcess, method: string, input: unknown = {}): Promise<T> {
  const res = await fetch(`${server.origin}/api/${method}`, {
    method: 'POST',
    headers: { 'x-ctxlens-token': server.token, 'content-type': 'application/json' },
    body: JSON.stringify(input)
  })
  const reply = fromWire(await res.json()) as { ok: true; result: T } | { ok: false; error: { code: string; message: string } }
  if (!reply.ok) throw new Error(`${method} failed: [${reply.error.code}] ${reply.error.message}`)
  return reply.result
}
