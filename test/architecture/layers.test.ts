import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * The layering of issue 14 as a test: dependency-cruiser with the rules in .dependency-cruiser.cjs. The repository
 * must have no forbidden import beyond the recorded known ones; the fixture tree, which breaks each rule once,
 * shows that the rules catch what they name (a rule that matches nothing would pass the first check vacuously).
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')
const config = join(root, '.dependency-cruiser.cjs')

function cruise(cwd: string, extra: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [bin, 'src', '--config', config, '--output-type', 'err-long', ...extra], { cwd, encoding: 'utf8' })
  return { status: r.status, out: `${r.stdout}${r.stderr}` }
}

describe('layers', () => {
  it('src/ has no forbidden import beyond the known ones', () => {
    const r = cruise(root, ['--ignore-known', '.dependency-cruiser-known-violations.json'])
    expect(r.out).toContain('no dependency violations found')
    expect(r.status).toBe(0)
  }, 120_000)

  it('each rule catches the import it forbids', () => {
    const r = cruise(join(root, 'test', 'architecture', 'fixtures'), [])
    expect(r.status).not.toBe(0)
    const broken = (rule: string, from: string, to: string): boolean =>
      r.out.split('\n').some((line) => line.includes(rule) && line.includes(from) && line.includes(to))
    expect(broken('renderer-only-common', 'src/renderer/reachesStore.ts', 'src/main/store/db.ts')).toBe(true)
    expect(broken('engine-knows-no-store-saliency-services', 'src/main/engine/readsProject.ts', 'src/main/store/db.ts')).toBe(true)
    expect(broken('saliency-knows-only-the-model-interface', 'src/main/saliency/usesPool.ts', 'src/main/engine/pool.ts')).toBe(true)
    expect(broken('engine-knows-no-store-saliency-services', 'src/main/engine/runsJobs.ts', 'src/main/jobs/job.ts')).toBe(true)
    expect(broken('jobs-run-on-engine-saliency-store', 'src/main/jobs/readsAudit.ts', 'src/main/audit/jobParams.ts')).toBe(true)
    expect(broken('saliency-handler-sees-only-the-handler-seam', 'src/main/saliency/handler.ts', 'src/main/engine/pool.ts')).toBe(true)
    expect(broken('nothing-below-imports-services-or-adapters', 'src/main/datasets/callsService.ts', 'src/main/services/index.ts')).toBe(true)
    expect(broken('adapters-go-through-services', 'src/main/cli/reachesStore.ts', 'src/main/store/db.ts')).toBe(true)
    expect(broken('only-the-store-opens-sqlite', 'src/main/datasets/opensSqlite.ts', 'node_modules/better-sqlite3/')).toBe(true)
    expect(r.out).toMatch(/no-circular: src\/main\/cycle[AB]\.ts/)
    // Allowed imports stay allowed: the renderer's contract import, the CLI's service import.
    expect(broken('', 'src/renderer/reachesStore.ts', 'src/common/contract.ts')).toBe(false)
    expect(broken('', 'src/main/cli/reachesStore.ts', 'src/main/services/index.ts')).toBe(false)
    // The saliency handler's import of the handler seam is its own rule's exception, not the algorithms' rule.
    expect(broken('', 'src/main/saliency/handler.ts', 'src/main/engine/pool/handler.ts')).toBe(false)
  }, 120_000)
})
