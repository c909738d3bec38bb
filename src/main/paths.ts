import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** True when running the bundle in out/main rather than TypeScript sources (vitest, tsx). */
export const isBundled = !import.meta.url.endsWith('.ts')

/** The repository / app root: two levels above out/main or src/main. */
export function appRoot(): string {
  let dir = here
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir
    dir = dirname(dir)
  }
  return resolve(here, '..', '..')
}

/** Where projects, thumbnails and settings live unless the user says otherwise. */
export function appHome(): string {
  return process.env.CTXLENS_HOME ?? join(homedir(), '.context-lens')
}

/** The jobs that belong to no project (benchmark runs): one list per home, shared by the app and the CLI. */
export function appJobStorePath(): string {
  return join(appHome(), 'jobs.sqlite')
}

/** One demo per home: the desktop app's first start and `ctxlens demo` build and open the same file. */
export function demoProjectPath(): string {
  return join(appHome(), 'projects', 'demo.ctxlens')
}

/** The model the demo ships with (the app's first start builds the demo project only where it exists). */
export function defaultDemoModelDir(): string {
  return join(appRoot(), 'resources', 'demo-model')
}

export function builtRendererDir(): string {
  return join(appRoot(), 'out', 'renderer')
}

/**
 * Worker threads need a file to start from. Bundled entries sit side by side in out/main, so each entry tells
 * the engine pool where the bundled worker is; from sources the pool falls back to the .ts file.
 */
export function announceBundledWorkerEntry(): void {
  if (isBundled && !process.env.CTXLENS_WORKER_ENTRY) {
    process.env.CTXLENS_WORKER_ENTRY = join(appRoot(), 'out', 'main', 'engine-worker.js')
  }
}
