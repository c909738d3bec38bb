import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { alertsTable, contextTable, rankAlerts, type ReportTable } from '../../src/common/charts'
import { ReportOptionsSchema } from '../../src/common/methods/reports'
import { renderReport, type ReportCase, type ReportData } from '../../src/main/report'
import { tempDir } from '../helpers/tempdir'
import { syntheticStats } from './fixtures/stats'
import { keepForInspection, pdfPageCount, pdfToText, renderPages } from './helpers'

/**
 * A large project: 120 context classes (tables of 120 rows per requested class), 90 alerts and 300 bookmarked
 * cases. Tables must split between rows and repeat their header on every page they continue on, no row may be
 * lost or doubled at a break, a case must never be cut from its thumbnails, and nothing may run into the footer.
 */
const dir = tempDir()
const CASES = 300
const stats = syntheticStats({ classes: 120, alerts: 90 })
let file = ''
let pages: string[] = []
let result: { pdf: Buffer; pages: number }

async function thumbnail(): Promise<Buffer> {
  const w = 128
  const h = 64
  const data = Buffer.alloc(w * h * 3)
  for (let i = 0; i < w * h; i++) data.set([(i % w) * 2, Math.floor(i / w) * 4, 128], i * 3)
  return sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer()
}

beforeAll(async () => {
  const png = await thumbnail()
  const cases: ReportCase[] = Array.from({ length: CASES }, (_, i) => ({
    bookmarkId: i + 1,
    title: `case-${i + 1}`,
    tags: i % 7 === 0 ? ['failure'] : [],
    target: `segment ${1000 + i}`,
    imageId: 5000 + i,
    imagePath: `images/${i}.png`,
    imageName: { name: `scene-${5000 + i}.png`, split: 'val' },
    segment: { id: 1000 + i, kind: 'misclassified', gt: 'rider', pred: 'person', area: 50 + i, x: 40, y: 12 },
    explanation: { id: 9000 + i, method: 'context', className: 'person' },
    // Some cases carry long notes, so blocks differ in height and breaks fall in different places.
    notes: i % 5 === 0 ? [{ body: `Note for case ${i + 1}. ${'The rider is seen against the building facade, the bicycle hidden. '.repeat(1 + (i % 4))}`, createdAt: '2026-11-20T10:00:00Z' }] : [],
    thumbnails: { image: png, prediction: i % 11 === 0 ? null : png, saliency: png, aspect: 0.5 },
    problem: null
  }))
  // Every alert's example has its two thumbnails, but for a few whose image could not be read.
  const examples = new Map(
    stats.alerts.flatMap((a) => a.examples).map((e) => [e.explanationId, e.explanationId % 9 === 4 ? { problem: 'image file missing' } : { image: png, saliency: png, aspect: 0.5 }])
  )
  const data: ReportData = {
    stats,
    cases,
    examples,
    meta: {
      title: 'Large project report',
      projectName: 'Large',
      projectPath: '/data/large.ctxlens',
      dataset: { id: 1, name: 'Many classes', format: 'folder', images: 9000, split: null },
      model: { id: 2, name: 'wide-model', architecture: 'unet-resnet18', contentHash: 'f'.repeat(64) },
      job: { id: 3, state: 'done', createdAt: '2026-11-20T09:00:00Z', done: 81, failed: 0, total: 81 },
      method: 'context',
      preset: 'cityscapes',
      params: { maskHeight: 16, maskWidth: 32, steps: 80, lambda: 0.01, baseline: { kind: 'constant', value: 0 } },
      selection: { classes: ['rider', 'person'], kinds: ['correct', 'misclassified'], minArea: 16, sampleSize: null, samplePerPair: 60, seed: 0 },
      appVersion: '0.1.0',
      generatedAt: new Date('2026-11-26T12:00:00Z')
    }
  }
  result = await renderReport(data, ReportOptionsSchema.parse({}))
  file = dir.file('large.pdf')
  writeFileSync(file, result.pdf)
  keepForInspection(file)
  pages = pdfToText(file).split('\f').slice(0, result.pages)
}, 300_000)
afterAll(() => dir.cleanup())

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const rowPattern = (cells: string[]): RegExp => new RegExp(`(^|\\s)${cells.map(escape).join('\\s+')}(\\s|$)`, 'm')
const headerPattern = (t: ReportTable): RegExp => new RegExp(t.columns.map((c) => escape(c.label)).join('\\s+'))

/** Pages (0-based) on which a table's caption appears, first or continued. */
function tablePages(caption: string): { first: number[]; continued: number[] } {
  const first: number[] = []
  const continued: number[] = []
  pages.forEach((p, i) => {
    if (p.includes(`${caption} (continued)`)) continued.push(i)
    else if (p.includes(caption)) first.push(i)
  })
  return { first, continued }
}

describe('pagination of a large report', () => {
  it('splits long tables between rows, repeating caption and header on every continuation page', () => {
    const tables: [ReportTable, string][] = [
      [alertsTable(stats), '90 bias alerts, ranked'],
      ...stats.perClass.map((c): [ReportTable, string] => [contextTable(c, stats.options), `${c.name}: context shares, baseline, lift and density`])
    ]
    for (const [table, caption] of tables) {
      const where = tablePages(caption)
      expect(where.first, caption).toHaveLength(1)
      expect(where.continued.length, `${caption} continues`).toBeGreaterThanOrEqual(1)
      // Continuation pages follow the first one without a gap, each with the header row again.
      expect(where.continued).toEqual(where.continued.map((_, i) => where.first[0] + 1 + i))
      for (const p of [where.first[0], ...where.continued]) expect(pages[p], `header on page ${p + 1}`).toMatch(headerPattern(table))
    }
    // A continuation page never carries a single orphaned row.
    for (const c of stats.perClass) {
      const rows = contextTable(c, stats.options).rows.map(rowPattern)
      for (const p of tablePages(`${c.name}: context shares, baseline, lift and density`).continued) {
        expect(rows.filter((re) => re.test(pages[p])).length, `rows on page ${p + 1}`).toBeGreaterThanOrEqual(2)
      }
    }
    // Every context-table row exactly once: none lost or printed twice at a page break.
    for (const c of stats.perClass) {
      const span = tablePages(`${c.name}: context shares, baseline, lift and density`)
      const text = [span.first[0], ...span.continued].map((p) => pages[p]).join('\n')
      for (const row of contextTable(c, stats.options).rows) {
        expect(text.match(new RegExp(rowPattern(row).source, 'gm'))?.length ?? 0, row.join(' | ')).toBe(1)
      }
    }
    const raw = pdfToText(file, 'raw')
    for (let rank = 1; rank <= 90; rank++) expect(raw).toMatch(new RegExp(`(^|\\n)${rank} (rider|person) <- `))
  })

  it('lists all 300 bookmarked cases, each on one page with its three thumbnails, and every alert row with its example thumbnails', () => {
    const perPage = pages.map((p) => [...p.matchAll(/#(\d+) case-(\d+)/g)].map((m) => Number(m[1])))
    const all = perPage.flat()
    expect(all).toEqual(Array.from({ length: CASES }, (_, i) => i + 1))
    // pdfimages lists each drawn image with its page: a case cut from its thumbnails would show up as a mismatch.
    const listing = execFileSync('pdfimages', ['-list', file], { encoding: 'utf8' }).split('\n').slice(2).filter(Boolean)
    const imagesPerPage = new Map<number, number>()
    for (const line of listing) {
      const page = Number(line.trim().split(/\s+/)[0])
      imagesPerPage.set(page, (imagesPerPage.get(page) ?? 0) + 1)
    }
    const ranked = rankAlerts(stats.alerts)
    perPage.forEach((ids, i) => {
      // Cases 1, 12, 23... have no stored prediction: two images and an empty frame.
      const caseImages = ids.reduce((a, id) => a + ((id - 1) % 11 === 0 ? 2 : 3), 0)
      // An alert row (its rank first on the line) carries its example's image and saliency, unless that could not be read.
      const alertRows = [...pages[i].matchAll(/^[ \t]*(\d+)[ \t]+(?:rider|person) <- /gm)].map((m) => ranked[Number(m[1]) - 1])
      const alertImages = alertRows.reduce((a, alert) => a + (alert.examples[0].explanationId % 9 === 4 ? 0 : 2), 0)
      const expected = caseImages + alertImages
      expect(imagesPerPage.get(i + 1) ?? 0, `images on page ${i + 1} (cases ${ids.join(', ')})`).toBe(expected)
      for (const id of ids) expect(pages[i]).toContain(`scene-${5000 + id - 1}.png (val)`)
    })
    expect(listing.length).toBe(CASES * 3 - Math.ceil(CASES / 11) + 2 * ranked.filter((a) => a.examples[0].explanationId % 9 !== 4).length)
  })

  it('renders every page, numbered, with nothing drawn between the text area and the footer', async () => {
    expect(result.pages).toBeGreaterThan(60)
    expect(pdfPageCount(file)).toBe(result.pages)
    pages.slice(1).forEach((p, i) => expect(p).toMatch(new RegExp(`Page ${i + 2} of ${result.pages}\\s*$`)))
    const out = dir.file('png')
    mkdirSync(out)
    const dpi = 36
    const rendered = renderPages(file, out, dpi)
    expect(rendered.pages).toHaveLength(result.pages)
    // A4 is 842 pt high; the text area ends 60 pt above the bottom, the footer rule sits at 44 pt.
    const scale = dpi / 72
    for (const png of rendered.pages) {
      const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true })
      const from = Math.ceil((842 - 59) * scale)
      const to = Math.floor((842 - 46) * scale)
      let ink = 0
      for (let y = from; y <= to; y++) for (let x = 0; x < info.width; x++) if (data[y * info.width + x] < 200) ink++
      expect(ink, `${png}: ink between text area and footer`).toBe(0)
    }
  })
})
