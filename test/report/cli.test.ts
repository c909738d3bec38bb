import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtCli } from '../helpers/builtApp'
import { tempDir } from '../helpers/tempdir'
import { pdfPageCount, pdfToText, reportTestServices, SMALL_DEMO } from './helpers'

/** `ctxlens report` as a user runs it: a PDF of the chosen sections, and errors that say what is wrong. */
const dir = tempDir()
const cliEntry = builtCli()
const project = dir.file('demo.ctxlens')

function ctxlens(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliEntry, ...args], {
      env: { ...process.env, CTXLENS_BACKEND: 'wasm', CTXLENS_WORKERS: '1', CTXLENS_HOME: dir.path }
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

beforeAll(async () => {
  const previousHome = process.env.CTXLENS_HOME
  process.env.CTXLENS_HOME = dir.path
  const { ctx, call } = reportTestServices()
  try {
    await call('audit:demo', { ...SMALL_DEMO, projectPath: project })
  } finally {
    ctx.dispose()
    if (previousHome === undefined) delete process.env.CTXLENS_HOME
    else process.env.CTXLENS_HOME = previousHome
  }
}, 300_000)
afterAll(() => dir.cleanup())

describe('ctxlens report', () => {
  it('writes the chosen sections to --out and says what it wrote', async () => {
    const out = dir.file('alerts-and-methods.pdf')
    const run = await ctxlens('report', '--project', project, '--out', out, '--sections', 'methods,alerts', '--title', 'Rider audit', '--bootstrap', '200')
    expect(run.code, run.stderr).toBe(0)
    const pages = pdfPageCount(out)
    expect(run.stdout).toContain(`Wrote ${out}: ${pages} pages`)
    const text = pdfToText(out)
    expect(text).toContain('Rider audit')
    expect(text).toMatch(/Bias alerts\s+(\. ?)+\s*3/)
    expect(text).toContain('Methods appendix')
    expect(text).toContain('200 resamples')
    expect(text).not.toContain('Bookmarked cases')
    expect(text).not.toContain('Context per requested class')

    const json = await ctxlens('report', '--project', project, '--out', dir.file('all.pdf'), '--json')
    expect(json.code, json.stderr).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ path: dir.file('all.pdf'), sections: ['alerts', 'classes', 'bookmarks', 'methods'], pages: pdfPageCount(dir.file('all.pdf')) })
  })

  it('names an unknown section, a folder that does not exist and a project without an audit', async () => {
    const unknown = await ctxlens('report', '--project', project, '--out', dir.file('x.pdf'), '--sections', 'alerts,appendix')
    expect(unknown.code).not.toBe(0)
    expect(unknown.stderr).toContain('Unknown report section "appendix"; choose from alerts, classes, bookmarks, methods')

    const nowhere = join(dir.path, 'missing', 'r.pdf')
    const unwritable = await ctxlens('report', '--project', project, '--out', nowhere)
    expect(unwritable.code).toBe(1)
    expect(unwritable.stderr).toContain(`ctxlens: error [INVALID_PARAMETERS] Cannot write the report to ${nowhere}: the folder ${join(dir.path, 'missing')} does not exist`)

    const created = await ctxlens('project', 'create', dir.file('empty.ctxlens'))
    expect(created.code, created.stderr).toBe(0)
    const noAudit = await ctxlens('report', '--project', dir.file('empty.ctxlens'), '--out', dir.file('e.pdf'))
    expect(noAudit.code).toBe(1)
    expect(noAudit.stderr).toContain('[JOB_NOT_FOUND] This project has no audit job yet')
    expect(existsSync(dir.file('e.pdf'))).toBe(false)
  })
})
