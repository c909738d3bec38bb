import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs script (npm's preinstall), without type declarations
import { nativeBuildAdvice } from '../../scripts/check-native-build.mjs'
import { tempDir } from '../helpers/tempdir'

/** A Node install prefix as the official tarballs lay it out: bin/node and include/node/common.gypi. */
function nodePrefix(dir: string, withHeaders: boolean): string {
  mkdirSync(join(dir, 'bin'), { recursive: true })
  if (withHeaders) {
    mkdirSync(join(dir, 'include', 'node'), { recursive: true })
    writeFileSync(join(dir, 'include', 'node', 'common.gypi'), '{}')
  }
  return join(dir, 'bin', 'node')
}

describe('npm install on an offline machine (preinstall advice)', () => {
  const dir = tempDir()
  afterAll(dir.cleanup)
  let n = 0
  let current = ''
  // Each test its own folder, so a build file one test writes cannot quiet another.
  const tmp = (): string => current
  beforeEach(() => {
    current = join(dir.path, String(n++))
  })

  it('names npm_config_nodedir with the installed Node\'s own prefix when nothing can be downloaded', () => {
    const execPath = nodePrefix(join(tmp(), 'node'), true)
    const advice = nativeBuildAdvice({ root: join(tmp(), 'app'), env: {}, execPath, headerDirs: [join(tmp(), 'gyp')], hostResolves: false })
    expect(advice).toContain(`npm_config_nodedir=${join(tmp(), 'node')} `)
    expect(advice).toContain('Offline and air-gapped machines')
  })

  it('says which folder to look for when the installed Node came without headers, and flags a wrong nodedir', () => {
    const execPath = nodePrefix(join(tmp(), 'bare'), false)
    const advice = nativeBuildAdvice({ root: join(tmp(), 'app'), env: { npm_config_nodedir: join(tmp(), 'nowhere') }, execPath, headerDirs: [], hostResolves: false })
    expect(advice).toContain('include/node/common.gypi, e.g. an unpacked node-v')
    expect(advice).toContain(`npm_config_nodedir=${join(tmp(), 'nowhere')} has no include/node/common.gypi`)
  })

  it('stays quiet when the build can succeed: a reachable host, headers in nodedir or node-gyp\'s cache, or a finished build', () => {
    const execPath = nodePrefix(join(tmp(), 'node'), true)
    const base = { root: join(tmp(), 'app'), env: {}, execPath, headerDirs: [] as string[], hostResolves: false }
    expect(nativeBuildAdvice({ ...base, hostResolves: true })).toBeNull()
    expect(nativeBuildAdvice({ ...base, env: { npm_config_nodedir: join(tmp(), 'node') } })).toBeNull()
    expect(nativeBuildAdvice({ ...base, headerDirs: [join(tmp(), 'elsewhere'), join(tmp(), 'node')] })).toBeNull()
    const built = join(tmp(), 'app', 'node_modules', 'better-sqlite3', 'build', 'Release')
    mkdirSync(built, { recursive: true })
    writeFileSync(join(built, 'better_sqlite3.node'), '')
    expect(nativeBuildAdvice(base)).toBeNull()
  })
})
