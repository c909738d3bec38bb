#!/usr/bin/env node
// `npm install`'s preinstall: better-sqlite3 is the one dependency that must compile when it cannot download a
// prebuilt binary, and node-gyp then downloads Node's headers too. On an offline or air-gapped machine both
// downloads fail with messages (ENOTFOUND, "gyp ERR! ... download") that do not say what to do. This check says
// it up front. It only advises: it never fails the install.
//
// npm runs a project's own preinstall before its dependencies from npm 12 on; npm 10 and 11 run it after them, so
// there it speaks only when the install went through, and stays quiet because the build is then in place.
import { lookup } from 'node:dns/promises'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const README_SECTION = 'README.md, "Offline and air-gapped machines"'

/** Where node-gyp keeps the headers it downloaded (its devdir), per platform, as node-gyp's env-paths computes it. */
export function nodeGypHeaderDirs(env = process.env, home = homedir(), version = process.versions.node) {
  const dirs = []
  if (env.npm_config_devdir) dirs.push(env.npm_config_devdir)
  if (process.platform === 'win32') dirs.push(join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'node-gyp', 'Cache'))
  else if (process.platform === 'darwin') dirs.push(join(home, 'Library', 'Caches', 'node-gyp'))
  else dirs.push(join(env.XDG_CACHE_HOME ?? join(home, '.cache'), 'node-gyp'))
  return dirs.map((d) => join(d, version))
}

const hasHeaders = (dir) => existsSync(join(dir, 'include', 'node', 'common.gypi'))

/**
 * What to tell the user, or null when the build will find what it needs. `hostResolves` is whether the prebuilt
 * binaries' host has a DNS answer: without one, neither download can succeed.
 */
export function nativeBuildAdvice({ root, env = process.env, execPath = process.execPath, headerDirs = nodeGypHeaderDirs(env), hostResolves }) {
  if (existsSync(join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))) return null
  if (env.npm_config_nodedir && hasHeaders(env.npm_config_nodedir)) return null
  if (headerDirs.some(hasHeaders)) return null
  if (hostResolves) return null
  const prefix = dirname(dirname(execPath))
  const command = hasHeaders(prefix)
    ? `npm_config_nodedir=${prefix} npm_config_build_from_source=true npm install`
    : 'npm_config_nodedir=<a folder with include/node/common.gypi, e.g. an unpacked node-v' + process.versions.node + '-headers.tar.gz> npm install'
  const wrongDir = env.npm_config_nodedir ? `\n  (npm_config_nodedir=${env.npm_config_nodedir} has no include/node/common.gypi.)` : ''
  return (
    'Context Lens: this machine cannot reach the download host of prebuilt native binaries, and Node\'s headers\n' +
    '  are not where node-gyp looks, so better-sqlite3\'s build is about to fail (prebuild-install ENOTFOUND,\n' +
    '  then "gyp ERR!" on the headers download). Build it against the Node you have installed:\n' +
    `    ${command}${wrongDir}\n` +
    `  See ${README_SECTION}.`
  )
}

async function resolves(host) {
  try {
    await Promise.race([lookup(host), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000))])
    return true
  } catch {
    return false
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
    // prebuild-install fetches better-sqlite3's binaries from GitHub's releases.
    const advice = nativeBuildAdvice({ root, hostResolves: await resolves(process.env.CTXLENS_PREBUILT_HOST || 'github.com') })
    if (advice) console.warn(advice)
  } catch {
    // Advice only: a check that breaks must not break the install.
  }
}
