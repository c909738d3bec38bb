import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import sharp from 'sharp'
import { afterAll, describe, expect, it } from 'vitest'
import type { AuditStats } from '../../src/common/audit'
import { biasAlertsChart, contextDistributionChart, densityLiftChart, percent, table1Chart, table1Table, THIN_MARK } from '../../src/common/charts'
import { ReportOptionsSchema, type ReportSection } from '../../src/common/methods/reports'
import { SaliencyParamsSchema } from '../../src/common/saliency'
import { renderReport, type ReportData } from '../../src/main/report'
import { chartSvg } from '../../src/main/report/svgChart'
import { tempDir } from '../helpers/tempdir'
import { syntheticStats } from './fixtures/stats'
import { keepForInspection, pdfToText } from './helpers'

/**
 * What a reader could misread in a report, on a small synthetic audit (no model, a second per report): parameters
 * that did not apply, shares over one explanation passed off as rates, alerts without a picture, labels drawn
 * over one another.
 */
const dir = tempDir()
afterAll(() => dir.cleanup())

const evidence = (n: number, images: number, notRecovered = 0) => ({ explanations: n, images, total: n + notRecovered, recovered: n, notRecovered, recoveryRate: n + notRecovered ? n / (n + notRecovered) : null })

/** Rider (class 0) has a correct group on plenty, a confusion on one explanation, and one on none recovered. */
function thinStats(): AuditStats {
  const stats = syntheticStats({ classes: 6, alerts: 2 })
  stats.table1[1].evidence = evidence(1, 1)
  stats.table1[1].explanations = 1
  stats.table1.splice(2, 0, { ...stats.table1[1], predClass: 2, predName: 'class-2', explanations: 0, evidence: evidence(0, 0, 3) })
  return stats
}

async function png(): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 32, channels: 3, background: { r: 200, g: 40, b: 40 } } }).jpeg().toBuffer()
}

function reportData(stats: AuditStats, params: Record<string, unknown>, examples: ReportData['examples'] = new Map()): ReportData {
  return {
    stats,
    cases: [],
    examples,
    meta: {
      title: 'Readability',
      projectName: 'Small',
      projectPath: '/data/small.ctxlens',
      dataset: { id: 1, name: 'Streets', format: 'folder', images: 40, split: null },
      model: { id: 2, name: 'unet', architecture: 'unet-vgg', contentHash: 'a'.repeat(64) },
      job: { id: 3, state: 'done', createdAt: '2026-11-20T09:00:00Z', done: 81, failed: 0, total: 81 },
      method: 'context',
      preset: 'cityscapes',
      params,
      selection: { classes: ['rider', 'person'], kinds: ['correct', 'misclassified'], minArea: 16, sampleSize: null, samplePerPair: null, seed: 0 },
      appVersion: '0.1.0',
      generatedAt: new Date('2026-11-26T12:00:00Z')
    }
  }
}

/** The saliency parameters as the report gets them from a job: everything the schema stores, without `method`. */
function storedParams(input: Record<string, unknown>): Record<string, unknown> {
  const { method: _m, ...rest } = SaliencyParamsSchema.parse({ method: 'context', ...input }) as Record<string, unknown>
  return rest
}

async function render(name: string, data: ReportData, sections: ReportSection[]): Promise<{ file: string; text: string; flat: string }> {
  const { pdf } = await renderReport(data, ReportOptionsSchema.parse({ sections }))
  const file = dir.file(name)
  writeFileSync(file, pdf)
  keepForInspection(file)
  const text = pdfToText(file)
  return { file, text, flat: pdfToText(file, 'raw').replace(/\s+/g, ' ') }
}

describe('parameters in the methods appendix', () => {
  it("lists only the optimiser's own settings, and no tuning of an early stop that was off", async () => {
    const sgd = await render('sgd.pdf', reportData(thinStats(), storedParams({ optimizer: 'sgd', momentum: 0.5 })), ['methods'])
    expect(sgd.flat).toMatch(/optimizer sgd/)
    expect(sgd.flat).toMatch(/momentum 0\.5/)
    expect(sgd.flat).not.toContain('adam')
    expect(sgd.flat).toMatch(/earlyStop\.enabled false/)
    expect(sgd.flat).not.toContain('earlyStop.tolerance')

    const adam = await render('adam.pdf', reportData(thinStats(), storedParams({ optimizer: 'adam', earlyStop: { enabled: true, patience: 7 } })), ['methods'])
    expect(adam.flat).toMatch(/optimizer adam/)
    expect(adam.flat).toMatch(/adam\.beta1 0\.9/)
    expect(adam.flat).toMatch(/adam\.beta2 0\.999/)
    expect(adam.flat).not.toContain('momentum')
    expect(adam.flat).toMatch(/earlyStop\.patience 7/)
  })
})

describe('figures resting on few explanations', () => {
  it('marks the shares of a group under the alert bar, prints none for an empty group, and counts a small recovery', async () => {
    const stats = thinStats()
    const table = table1Table(stats, 0)!
    expect(table.columns.map((c) => c.label)).toEqual([
      'Context class',
      'correct (n=30, 15 img, 81% rec.)',
      `as person (n=1, 1 img, 1 of 1 rec.) ${THIN_MARK}`,
      'as class-2 (n=0, 0 img, 0 of 3 rec.)'
    ])
    for (const row of table.rows) {
      expect(row[1]).toMatch(/^\d+\.\d%$/)
      expect(row[2]).toMatch(new RegExp(`^\\d+\\.\\d% ${THIN_MARK}$`))
      expect(row[3]).toBe('-')
    }
    const { text, flat } = await render('thin.pdf', reportData(stats, storedParams({})), ['classes'])
    const top = table.rows[0]
    expect(text).toMatch(new RegExp(`${top[0]}\\s+${top[1].replace('.', '\\.')}\\s+${top[2].replace('.', '\\.')}\\s+-`))
    expect(flat).toContain(`${THIN_MARK} Rests on fewer than 20 explanations or 3 images, the bar an alert must clear`)
    expect(flat).toContain('1 of 1 rec.')
    expect(flat).not.toContain('100% rec.')
  })
})

describe('alert rows', () => {
  it("carry their examples' thumbnails, or say why an example has none", async () => {
    const stats = syntheticStats({ classes: 6, alerts: 3 })
    const [a, b, c] = stats.alerts.map((x) => x.examples[0])
    const image = await png()
    const examples: ReportData['examples'] = new Map([
      [a.explanationId, { image, saliency: image, aspect: 0.5 }],
      [b.explanationId, { image, saliency: image, aspect: 0.5 }],
      [c.explanationId, { problem: 'the image file scene-302.png is missing' }]
    ])
    const { file, flat } = await render('alerts.pdf', reportData(stats, storedParams({}), examples), ['alerts'])
    const listing = execFileSync('pdfimages', ['-list', file], { encoding: 'utf8' }).split('\n').slice(2).filter(Boolean)
    expect(listing).toHaveLength(4)
    expect(flat).toContain(`${a.image.name} (val): request (blue), saliency (red), ${percent(a.share, 0)} on the context class`)
    expect(flat).toContain(`${c.image.name} (val): no thumbnails, the image file scene-302.png is missing`)
  })
})

/** The drawing order of an SVG's elements that match. */
const order = (svg: string, re: RegExp): number[] => [...svg.matchAll(new RegExp(re.source, 'g'))].map((m) => m.index!)

describe('chart labels', () => {
  it('draws a dashed reference line over the bars but under the value labels, which sit on white', () => {
    const stats = syntheticStats({ classes: 6, alerts: 3 })
    const density = chartSvg(densityLiftChart(stats.perClass[0]))
    const alerts = chartSvg(biasAlertsChart(stats, 'share')!)
    for (const svg of [density, alerts]) {
      const line = order(svg, /<path[^>]*stroke-dasharray[^>]*ecmeta_ssr_type="chart"/)
      const labels = order(svg, /<text[^>]*font-size:9px/)
      expect(line).toHaveLength(1)
      expect(labels.length).toBeGreaterThan(0)
      expect(line[0]).toBeLessThan(Math.min(...labels))
      // Each label's white box comes with it.
      expect(order(svg, /<path[^>]*fill="#ffffff"/).length).toBeGreaterThanOrEqual(labels.length)
    }
    const bars = order(density, /<path[^>]*ecmeta_series_index="\d"[^>]*ecmeta_ssr_type="chart"/).filter((i) => !order(density, /<path[^>]*stroke-dasharray/).includes(i))
    expect(Math.max(...bars)).toBeLessThan(order(density, /<path[^>]*stroke-dasharray[^>]*ecmeta_ssr_type="chart"/)[0])
  })

  it("names the alert threshold in the legend, not on the plot beside the estimates' labels", () => {
    const svg = chartSvg(biasAlertsChart(syntheticStats({ classes: 6, alerts: 3 }), 'share')!)
    expect(svg.match(/>threshold[^<]*</g)).toEqual(['>threshold (0.05)<'])
  })

  it('leaves zero bars unlabelled so their labels do not stack at the axis', () => {
    const stats = syntheticStats({ classes: 6, alerts: 0 })
    const rider = stats.perClass[0]
    rider.context.forEach((k, i) => (k.baselineShare = i < 2 ? 0.5 : 0))
    const svg = chartSvg(contextDistributionChart(stats, rider))
    expect(svg).not.toMatch(/>0%</)
    expect(svg.match(/>50%</g)).toHaveLength(2)
  })

  it('makes room for a legend that wraps, and draws no bars for a group with nothing counted', () => {
    const stats = thinStats()
    const chart = table1Chart(stats, 0)!
    const option = chart.option as { grid: { top: number }; series: { name: string }[] }
    expect(option.grid.top).toBeGreaterThan(40)
    expect(option.series.map((s) => s.name)).toEqual(['correct (n=30, 15 img, 81% rec.)', `as person (n=1, 1 img, 1 of 1 rec.) ${THIN_MARK}`])
    expect(chart.caption).toContain('Nothing counted, so not drawn: as class-2 (n=0, 0 img, 0 of 3 rec.).')
    expect(chart.caption).toContain(`${THIN_MARK} Rests on fewer than 20 explanations`)
  })
})
