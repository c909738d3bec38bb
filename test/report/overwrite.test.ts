import { readFileSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildProgram } from '@main/cli/program'
import { provideSaveDialog } from '@main/services/reports'
import { auditOptions, buildAuditProject } from '../audit/fixtures/project'
import { services } from '../audit/helpers'
import { tempDir } from '../helpers/tempdir'

/**
 * A report or a statistics export never replaces an existing file by accident: the services refuse (CONFLICT)
 * unless told to, the desktop dialog has asked the user already, and the CLI takes --force. On a real audit of
 * the small block dataset (CPU backend, a few seconds).
 */
const dir = tempDir()
const { ctx, call } = services()
let projectPath = ''
let jobId = 0
const KEEP = 'last week’s report, to be kept'

beforeAll(async () => {
  const built = await buildAuditProject(dir.path, call, 2)
  projectPath = built.path
  await call('project:open', { path: projectPath })
  const options = auditOptions(built.datasetId, built.modelId)
  const job = await call('audit:start', { ...options, params: { ...options.params, steps: 2 }, segments: { ...options.segments, sampleSize: 2 }, wait: true })
  jobId = job.id
}, 120_000)
afterAll(() => {
  ctx.dispose()
  dir.cleanup()
})

const existing = (name: string): string => {
  const path = dir.file(name)
  writeFileSync(path, KEEP)
  return path
}

/** `ctxlens …` in this process (its own session, as a shell would run it): exit code and stderr. */
async function ctxlens(...args: string[]): Promise<{ code: number; stderr: string }> {
  const program = buildProgram('0.0.0')
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)]
  for (const c of all(program)) c.exitOverride()
  let stderr = ''
  const write = process.stderr.write.bind(process.stderr)
  const stdout = process.stdout.write.bind(process.stdout)
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write
  process.stdout.write = (() => true) as typeof process.stdout.write
  try {
    await program.parseAsync(['node', 'ctxlens', ...args])
    return { code: Number(process.exitCode ?? 0), stderr }
  } finally {
    process.stderr.write = write
    process.stdout.write = stdout
    process.exitCode = undefined
  }
}

describe('writing over an existing file', () => {
  it('reports:save refuses an existing file, naming it, and replaces it only when told to', async () => {
    const path = existing('report.pdf')
    await expect(call('reports:save', { jobId, path, sections: ['methods'] })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining(`Not writing the report to ${path}: the file exists`)
    })
    expect(readFileSync(path, 'utf8')).toBe(KEEP)
    const saved = await call('reports:save', { jobId, path, sections: ['methods'], overwrite: true })
    expect(saved.path).toBe(path)
    expect(readFileSync(path).subarray(0, 5).toString()).toBe('%PDF-')
  })

  it('reports:save replaces the file the desktop save dialog chose: the dialog asked the user', async () => {
    const path = existing('chosen.pdf')
    const asked: string[] = []
    provideSaveDialog(ctx, async (defaultName) => {
      asked.push(defaultName)
      return path
    })
    const saved = await call('reports:save', { jobId, sections: ['methods'] })
    expect(asked).toHaveLength(1)
    expect(saved.path).toBe(path)
    expect(readFileSync(path).subarray(0, 5).toString()).toBe('%PDF-')
  })

  it('audit:exportStats refuses an existing file, naming it, and replaces it only when told to', async () => {
    const path = existing('stats.csv')
    const options = { jobId, format: 'csv' as const, path, bootstrap: { samples: 20 } }
    await expect(call('audit:exportStats', options)).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(`Not writing the statistics to ${path}`) })
    expect(readFileSync(path, 'utf8')).toBe(KEEP)
    await call('audit:exportStats', { ...options, overwrite: true })
    expect(readFileSync(path, 'utf8')).toMatch(/^section,/)
  })

  it('the CLI refuses too, and --force replaces (report --out, stats --out)', async () => {
    const pdf = existing('cli.pdf')
    const refused = await ctxlens('report', '--project', projectPath, '--out', pdf, '--sections', 'methods', '--no-progress')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`ctxlens: error [CONFLICT] Not writing the report to ${pdf}: the file exists`)
    expect(readFileSync(pdf, 'utf8')).toBe(KEEP)
    expect((await ctxlens('report', '--project', projectPath, '--out', pdf, '--sections', 'methods', '--no-progress', '--force')).code).toBe(0)
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-')

    const json = existing('cli-stats.json')
    const again = await ctxlens('stats', '--project', projectPath, '--json', '--out', json, '--bootstrap', '20')
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('"code": "CONFLICT"')
    expect(readFileSync(json, 'utf8')).toBe(KEEP)
    expect((await ctxlens('stats', '--project', projectPath, '--json', '--out', json, '--bootstrap', '20', '--force')).code).toBe(0)
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ jobId })
  })
})
