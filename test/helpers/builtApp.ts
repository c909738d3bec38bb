import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'

/**
 * The built app (`electron-vite build` into out/), rebuilt only when it was not built from the sources as they are
 * now. Tests that run the CLI as a user does spawn out/main/cli.js, the file `npx ctxlens` runs. Under tsx every
 * start resolves and transpiles the sources again, in the CLI and in each engine worker thread it starts, which
 * made the files that spawn the CLI (some eighty times in all) cost about twice the CPU time they do now.
 */
const root = join(import.meta.dirname, '..', '..')
const outDir = join(root, 'out')
const hashFile = join(outDir, '.source-hash')
const lockDir = join(root, '.build-lock')
/** What the build reads besides node_modules. */
const inputs = ['src', 'electron.vite.config.ts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.node.json', 'tsconfig.web.json']

function files(path: string): string[] {
  if (!existsSync(path)) return []
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => files(join(path, e.name)))
}

/** A hash of every build input's path and bytes: any edit, addition or removal changes it. */
export function sourceHash(): string {
  const hash = createHash('sha256')
  for (const file of inputs.flatMap((p) => files(join(root, p)))) hash.update(`${relative(root, file)}\0`).update(readFileSync(file)).update('\0')
  return hash.digest('hex')
}

const builtFrom = (): string | null => (existsSync(hashFile) ? readFileSync(hashFile, 'utf8').trim() : null)
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

/**
 * Builds out/ unless it is already built from the current sources. Test files run in parallel processes, so one
 * builds while the others wait on a lock folder (mkdir is atomic); a lock left by a killed run is taken over after
 * ten minutes, longer than any build takes.
 */
export function ensureBuilt(): void {
  const want = sourceHash()
  if (builtFrom() === want) return
  for (;;) {
    try {
      mkdirSync(lockDir)
      break
    } catch {
      if (builtFrom() === want) return
      if (existsSync(lockDir) && Date.now() - statSync(lockDir).mtimeMs > 10 * 60_000) rmSync(lockDir, { recursive: true, force: true })
      sleep(250)
    }
  }
  try {
    if (builtFrom() === want) return
    rmSync(hashFile, { force: true })
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`electron-vite build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`)
    writeFileSync(hashFile, `${want}\n`)
  } finally {
    rmSync(lockDir, { recursive: true, force: true })
  }
}

/** out/main/cli.js, built from the current sources: spawn it with `process.execPath`. */
export function builtCli(): string {
  ensureBuilt()
  return join(outDir, 'main', 'cli.js')
}
