import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh folder per test file, removed afterwards; real files, never mocks. */
export function tempDir(prefix = 'ctxlens-test-'): { path: string; file: (name: string) => string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, file: (name) => join(path, name), cleanup: () => rmSync(path, { recursive: true, force: true }) }
}
