import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditStats } from '../../src/common/audit'
import { alertLabel, contextTable, count, evidenceText, exampleLabel, fixed, isThin, percent, table1Table, thinNote, type ReportTable } from '../../src/common/charts'
import { fromWire } from '../../src/common/wire'
import { startHttpServer } from '../../src/main/adapters/http'
import { createDispatch } from '../../src/main/services/dispatch'
import { createServices } from '../../src/main/services/index'
import { tempDir } from '../helpers/tempdir'
import { inkedPixels, keepForInspection, pdfPageCount, pdfToText, renderPages, reportTestServices, SMALL_DEMO } from './helpers'

/**
 * A report of a small demo project (bundled model, street scenes, a short context audit, two bookmarks with a
 * note), read back with poppler: the sections, class names and the statistics' own numbers must be in the text,
 * the contents must point at the right pages, and every page must render.
 */
const dir = tempDir()
const previousHome = process.env.CTXLENS_HOME
process.env.CTXLENS_HOME = dir.path
const { ctx, call } = reportTestServices()
let stats: AuditStats
const NOTE = 'Bicycle hidden behind the parked car; saliency sits on the building.'
const pkgVersion = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version

beforeAll(async () => {
  await call('audit:demo', SMALL_DEMO)
  stats = await call('audit:stats', {})
  const project = ctx.requireProject()
  const explained = project.explanations.forJob(stats.jobId)
  const failure = explained.find((e) => (e.summary as { kind?: string }).kind === 'misclassified') ?? explained[0]
  await call('bookmarks:add', { targetKind: 'explanation', targetId: failure.id, title: 'taken for the wrong class', tags: ['failure'] })
  await call('notes:add', { targetKind: 'explanation', targetId: failure.id, body: NOTE })
  await call('bookmarks:add', { targetKind: 'image', targetId: explained.at(-1)!.imageId, title: 'busy street', tags: [] })
}, 300_000)
afterAll(() => {
  ctx.dispose()
  if (previousHome === undefined) delete process.env.CTXLENS_HOME
  else process.env.CTXLENS_HOME = previousHome
  dir.cleanup()
})

/** A table row as pdftotext -layout prints it: the cells in order on one line, separated by space. */
function rowPattern(cells: string[]): RegExp {
  return new RegExp(cells.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+'))
}
function expectRows(text: string, table: ReportTable): void {
  for (const row of table.rows) expect(text, `row ${row.join(' | ')}`).toMatch(rowPattern(row))
}

/** The contents page's lines: title, dot leader, page number. */
function contents(text: string): { title: string; page: number }[] {
  const page = text.split('\f')[1]
  return [...page.matchAll(/^\s*(\S.*?)\s+(?:\.\s?){3,}\s*(\d+)\s*$/gm)].map((m) => ({ title: m[1].trim(), page: Number(m[2]) }))
}

describe('PDF report of the demo project', () => {
  it('has the title facts, every section, the statistics and the bookmarks, and every page renders', async () => {
    expect(stats.perClass.map((c) => c.name).sort()).toEqual(['person', 'rider'])
    const out = dir.file('demo-report.pdf')
    const result = await call('reports:save', { path: out })
    expect(result).toMatchObject({ path: out, sections: ['alerts', 'classes', 'bookmarks', 'methods'] })
    keepForInspection(out)
    expect(readFileSync(out).subarray(0, 5).toString()).toBe('%PDF-')
    expect(pdfPageCount(out)).toBe(result.pages)

    const text = pdfToText(out)
    const pages = text.split('\f').filter((p, i, all) => i < all.length - 1 || p.trim() !== '')
    expect(pages).toHaveLength(result.pages)

    // Title page: what was audited, with what, by which version.
    const model = ctx.requireProject().models.get(stats.modelId)!
    for (const fact of ['Context bias report', 'Demo street scenes', model.name, model.contentHash, model.architecture, 'Context saliency (preset cityscapes)', pkgVersion]) {
      expect(pages[0]).toContain(fact)
    }
    expect(pages[0]).toMatch(new RegExp(`Statistics\\s+${count(stats.explanations, 'explanation')} on ${count(stats.evidence.images, 'image')}`))

    // Contents: every section and requested class, each on the page it names.
    const toc = contents(text)
    const insufficient = stats.insufficient.length ? ['Insufficient evidence'] : []
    expect(toc.map((e) => e.title)).toEqual(['Bias alerts', ...insufficient, 'Context per requested class', ...stats.perClass.map((c) => `${c.name} (class ${c.classId})`), 'Bookmarked cases', 'Methods appendix', 'Saliency', 'Statistics', 'Parameters used'])
    for (const e of toc) expect(pages[e.page - 1], `"${e.title}" on page ${e.page}`).toContain(e.title)
    pages.slice(1).forEach((p, i) => expect(p).toContain(`Page ${i + 2} of ${result.pages}`))

    // The statistics' own numbers: every context-table and Table-1 row, every alert with its interval.
    for (const c of stats.perClass) {
      expect(text.replace(/\s+/g, ' ')).toContain(`Rests on ${evidenceText(c.evidence)}.`)
      expectRows(text, contextTable(c, stats.options))
      const t1 = table1Table(stats, c.classId)
      if (t1) expectRows(text, t1)
    }
    expect(stats.table1.some((r) => r.kind === 'misclassified'), 'the demo audit has a misclassified row').toBe(true)
    const flat = pdfToText(out, 'raw').replace(/\s+/g, ' ')
    if (stats.alerts.length === 0) expect(flat).toContain('No bias alerts')
    for (const a of [...stats.alerts, ...stats.insufficient]) {
      expect(flat).toContain(alertLabel(a))
      expect(flat).toContain(`CI ${fixed(a.ci[0])} to ${fixed(a.ci[1])}`)
      expect(flat).toContain(`share ${percent(a.share)} vs baseline ${percent(a.baselineShare)}`)
      expect(flat).toContain(evidenceText(a.evidence))
      for (const e of a.examples) expect(flat).toContain(exampleLabel(e))
    }

    // Every alert row (and every row on insufficient evidence) shows its examples: image with the request, and saliency.
    const examples = [...stats.alerts, ...stats.insufficient].flatMap((a) => a.examples)
    expect(examples.length, 'the demo audit has alert examples').toBeGreaterThan(0)
    const alertPages = new Set(Array.from({ length: toc.find((e) => e.title === 'Context per requested class')!.page - toc[0].page }, (_, i) => toc[0].page + i))
    const listing = execFileSync('pdfimages', ['-list', out], { encoding: 'utf8' }).split('\n').slice(2).filter(Boolean)
    expect(listing.filter((l) => alertPages.has(Number(l.trim().split(/\s+/)[0])))).toHaveLength(2 * examples.length)
    for (const e of examples) expect(flat).toContain(`${e.image.name}${e.image.split ? ` (${e.image.split})` : ''}: request (blue), saliency (red)`)

    // Shares resting on fewer explanations than an alert needs are marked as such (the demo's classes rest on a few).
    expect(stats.perClass.some((c) => isThin(c.evidence, stats.options))).toBe(true)
    expect(flat).toContain(thinNote(stats.options))

    // Bookmarked cases with their note; the methods appendix with the parameters used.
    expect(flat).toContain('#1 taken for the wrong class [failure]')
    expect(flat).toContain('#2 busy street')
    expect(flat).toContain(NOTE)
    // The demo's own settings over the Cityscapes preset (DEMO_SALIENCY_PARAMS).
    expect(flat).toMatch(/lambda\s+0\.003/)
    expect(flat).toMatch(/learningRate\s+3/)
    // An SGD audit: its momentum is listed, Adam's settings (stored with every job) are not.
    expect(flat).toMatch(/optimizer\s+sgd/)
    expect(flat).toMatch(/momentum\s+0\.5/)
    expect(flat).not.toContain('adam.')
    expect(flat).toContain(`contour radius (px) ${stats.options.contourRadius}`)

    const pngDir = dir.file('pages')
    mkdirSync(pngDir)
    const rendered = renderPages(out, pngDir)
    expect(rendered.stderr).not.toMatch(/error/i)
    expect(rendered.pages).toHaveLength(result.pages)
    for (const png of rendered.pages) expect(await inkedPixels(png), png).toBeGreaterThan(50)

    expect(ctx.requireProject().reports.list()[0]).toMatchObject({ path: out, title: 'Context bias report' })
  })

  it('includes only the chosen sections, and returns the same report as bytes for a download', async () => {
    const { pdf, filename, pages, sections } = await call('reports:pdf', { sections: ['methods', 'classes'] })
    expect(sections).toEqual(['methods', 'classes'])
    expect(filename).toMatch(/^Demo-job\d+-context-report-\d{4}-\d\d-\d\d\.pdf$/)
    const file = dir.file('subset.pdf')
    writeFileSync(file, pdf)
    expect(pdfPageCount(file)).toBe(pages)
    const toc = contents(pdfToText(file)).filter((e) => !/\(class \d+\)$/.test(e.title))
    // Fixed order whatever order they were asked in; no alerts, no bookmarks.
    expect(toc.map((e) => e.title)).toEqual(['Context per requested class', 'Methods appendix', 'Saliency', 'Statistics', 'Parameters used'])
    expect(pdfToText(file)).not.toContain(NOTE)
  })

  it('refuses unknown sections, folders that do not exist and a missing path, saying which', async () => {
    await expect(call('reports:save', { path: dir.file('x.pdf'), sections: ['alerts', 'summary' as never] })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD', message: expect.stringContaining('sections') })
    await expect(call('reports:save', { path: join(dir.path, 'no-such-folder', 'r.pdf') })).rejects.toMatchObject({
      code: 'INVALID_PARAMETERS',
      message: expect.stringContaining('does not exist')
    })
    await expect(call('reports:save', { path: dir.path })).rejects.toMatchObject({ code: 'INVALID_PARAMETERS', message: expect.stringContaining('is a folder') })
    await expect(call('reports:save', {})).rejects.toMatchObject({ code: 'INVALID_PARAMETERS', message: expect.stringContaining('save dialog') })
  })

  it('downloads over browser mode\'s HTTP API only with the token', async () => {
    const renderer = dir.file('renderer')
    mkdirSync(renderer)
    writeFileSync(join(renderer, 'index.html'), '<!doctype html>')
    const server = await startHttpServer({ dispatch: createDispatch(createServices(ctx)), events: ctx.events, rendererDir: renderer })
    try {
      const post = (headers: Record<string, string>) =>
        fetch(`http://127.0.0.1:${server.port}/api/reports:pdf`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ sections: ['alerts'] }) })
      const refused = await post({})
      expect(refused.status).toBe(401)
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED')
      const ok = await post({ 'x-ctxlens-token': server.token })
      expect(ok.status).toBe(200)
      // The bytes arrive through the wire codec, as every typed array over HTTP.
      const reply = fromWire(await ok.json()) as { ok: true; result: { pdf: Uint8Array; pages: number } }
      expect(reply.result.pdf).toBeInstanceOf(Uint8Array)
      const file = dir.file('download.pdf')
      writeFileSync(file, reply.result.pdf)
      expect(pdfPageCount(file)).toBe(reply.result.pages)
    } finally {
      await server.close()
    }
  })

  it('says there is no audit yet on a project without one', async () => {
    const { ctx: other, call: callOther } = reportTestServices()
    try {
      await callOther('project:create', { path: dir.file('empty.ctxlens') })
      await expect(callOther('reports:pdf', {})).rejects.toMatchObject({ code: 'JOB_NOT_FOUND', message: expect.stringContaining('no audit job yet') })
    } finally {
      other.dispose()
    }
  })
})
