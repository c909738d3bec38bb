#!/usr/bin/env node
// `npm start`: build, fetch Electron's binary if needed, give Electron its own build of better-sqlite3, launch.
//
// Electron and plain Node have different native ABIs. Rebuilding node_modules/better-sqlite3 for Electron would
// break `npm test` (vitest runs under Node), so the Electron build goes to .electron-native/ and the main process
// loads it through better-sqlite3's `nativeBinding` option (CTXLENS_SQLITE_BINDING, see src/main/store/database.ts).
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts })
  if (r.status !== 0) {
    console.error(`\n${cmd} ${args.join(' ')} failed (exit ${r.status}).`)
    process.exit(r.status ?? 1)
  }
}

// 1. Electron downloads its binary on first use (Electron >= 42): do it now, with a clear message if it cannot.
const electronDir = dirname(require.resolve('electron/package.json'))
const electronVersion = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version
// Its installer's stderr is kept back: on a failed download it is a bare `TypeError: fetch failed` stack, which
// says less than our message. CTXLENS_DEBUG=1 shows it.
const install = spawnSync(process.execPath, [join(electronDir, 'install.js')], { stdio: ['inherit', 'inherit', 'pipe'], cwd: root, encoding: 'utf8' })
if (install.status !== 0) {
  if (process.env.CTXLENS_DEBUG) process.stderr.write(install.stderr ?? '')
  console.error(
    `Electron ${electronVersion} could not fetch its binary (no network access to its download server?).\n` +
      'Use browser mode instead: `npm run serve` prints a URL to open in any browser.\n' +
      'Offline, place the Electron zip in its cache first: see "Offline and air-gapped machines" in README.md.'
  )
  process.exit(1)
}

// 2. better-sqlite3 for Electron's ABI, in a private copy.
const bindingDir = join(root, '.electron-native', `electron-${electronVersion}`)
const binding = join(bindingDir, 'better_sqlite3.node')
if (!existsSync(binding)) {
  // @electron/rebuild compiles (or fetches a prebuilt) better-sqlite3 against Electron's headers, in a scratch
  // project so that node_modules keeps its Node build.
  const { rebuild } = await import('@electron/rebuild')
  const work = join(root, '.electron-native', 'build')
  rmSync(work, { recursive: true, force: true })
  mkdirSync(join(work, 'node_modules'), { recursive: true })
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'ctxlens-native', private: true, dependencies: { 'better-sqlite3': '*' } }))
  const src = dirname(require.resolve('better-sqlite3/package.json'))
  cpSync(src, join(work, 'node_modules', 'better-sqlite3'), { recursive: true, filter: (p) => !p.includes(join('build', 'Release')) })
  await rebuild({ buildPath: work, electronVersion, onlyModules: ['better-sqlite3'], force: true })
  mkdirSync(bindingDir, { recursive: true })
  cpSync(join(work, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'), binding)
}

// 3. Build and launch on the bundled demo project (or CTXLENS_PROJECT).
run('npx', ['electron-vite', 'build'])
run('npx', ['electron-vite', 'preview'], { env: { ...process.env, CTXLENS_SQLITE_BINDING: binding } })
