import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../..')
// With Electron's binary already in place, `npm start` would go on to build and open the app: nothing to test here.
const electronInstalled = existsSync(join(root, 'node_modules', 'electron', 'path.txt'))
const cache = mkdtempSync(join(tmpdir(), 'ctxlens-electron-cache-'))
afterAll(() => rmSync(cache, { recursive: true, force: true }))

describe('npm start without Electron', () => {
  it.skipIf(electronInstalled)('prints its message only, not the installer\'s fetch stack, and exits non-zero', () => {
    // A mirror on a closed local port and an empty cache: the download fails at once, as on an offline machine.
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'start-electron.mjs')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ELECTRON_MIRROR: 'http://127.0.0.1:9/', electron_config_cache: cache, CTXLENS_DEBUG: '' }
    })
    const output = r.stdout + r.stderr
    expect(r.status).toBe(1)
    expect(output).toContain('could not fetch its binary')
    expect(output).toContain('npm run serve')
    expect(output).not.toMatch(/TypeError|fetch failed|^\s+at /m)
  })
})
