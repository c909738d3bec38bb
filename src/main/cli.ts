import { createRequire } from 'node:module'
import { buildProgram } from './cli/program'
import { announceBundledWorkerEntry, appRoot } from './paths'

announceBundledWorkerEntry()
const pkg = createRequire(import.meta.url)(`${appRoot()}/package.json`) as { version: string }

buildProgram(pkg.version)
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exitCode = 1
  })
