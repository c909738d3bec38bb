import { describe, expect, it } from 'vitest'
import type { BiasAlert } from '../../src/common/audit'
import { alertStrength, biasAlertsChart, contextDistributionChart, MAX_BARS, rankAlerts, segmentLabel, table1Table } from '../../src/common/charts'
import { pdfText } from '../../src/main/report/pdfText'
import { chartSvg } from '../../src/main/report/svgChart'
import { syntheticStats } from './fixtures/stats'

const alert = (over: Partial<BiasAlert>): BiasAlert => ({
  requestedClass: 7, requestedName: 'rider', contextClass: 8, contextName: 'bicycle', reason: 'share', value: 0.2, ci: [0.1, 0.3],
  threshold: 0.05, share: 0.3, baselineShare: 0.1, densityRatio: 2, examples: [],
  evidence: { explanations: 30, images: 10, total: 40, recovered: 30, notRecovered: 10, recoveryRate: 0.75 }, ...over
})

describe('shared chart definitions', () => {
  it('ranks share and density alerts together by lower bound over threshold', () => {
    const weakShare = alert({ contextClass: 2, contextName: 'building', ci: [0.06, 0.2] }) // 1.2x
    const strongDensity = alert({ reason: 'density', threshold: 3, value: 9, ci: [7.5, 11] }) // 2.5x
    const strongShare = alert({ contextClass: 0, contextName: 'road', ci: [0.1, 0.4] }) // 2x
    expect(alertStrength(strongDensity)).toBeCloseTo(2.5)
    expect(rankAlerts([weakShare, strongShare, strongDensity])).toEqual([strongDensity, strongShare, weakShare])
    // Only the kind asked for, strongest drawn on top (ECharts puts the first category at the bottom).
    const chart = biasAlertsChart({ ...syntheticStats({ classes: 4, alerts: 0 }), alerts: [weakShare, strongShare, strongDensity] }, 'share')!
    expect((chart.option.yAxis as { data: string[] }).data).toEqual(['rider <- building', 'rider <- road'])
    expect(biasAlertsChart({ ...syntheticStats({ classes: 4, alerts: 0 }), alerts: [weakShare] }, 'density')).toBeNull()
  })

  it('draws a class context as percent bars beside the baseline, largest on top, at most MAX_BARS of them', () => {
    const stats = syntheticStats({ classes: 30, alerts: 0 })
    const rider = stats.perClass[0]
    const chart = contextDistributionChart(stats, rider)
    const categories = (chart.option.yAxis as { data: string[] }).data
    const [saliency, baseline] = chart.option.series as { name: string; data: number[] }[]
    expect(categories).toHaveLength(MAX_BARS)
    expect(categories.at(-1)).toBe('rider')
    expect(saliency.data.at(-1)).toBe(Number((100 * rider.context[0].share).toFixed(1)))
    expect(baseline.data.at(-1)).toBe(Number((100 * rider.context[0].baselineShare).toFixed(1)))
    expect(chart.caption).toContain(`The ${MAX_BARS} largest of 30 classes shown`)
  })

  it('turns Table 1 on its side: a row per context class, a column per correct / confused group', () => {
    const stats = syntheticStats({ classes: 5, alerts: 0 })
    const t = table1Table(stats, 0)!
    // Ten explanations are fewer than an alert needs (20): that column is marked.
    expect(t.columns.map((c) => c.label)).toEqual(['Context class', 'correct (n=30, 15 img, 81% rec.)', 'as person (n=10, 5 img, 83% rec.) \u2020'])
    expect(t.rows.every((r) => r[2].endsWith(' \u2020') && !r[1].includes('\u2020'))).toBe(true)
    expect(t.note).toContain('fewer than 20 explanations or 3 images')
    expect(t.rows).toHaveLength(5)
    expect(table1Table(stats, 4)).toBeNull()
  })
})

describe('segment labels', () => {
  it('name a segment by its kind, with the classes it has, never a placeholder', () => {
    const at = { area: 412, x: 312, y: 140 }
    expect(segmentLabel({ kind: 'misclassified', gt: 'rider', pred: 'person', ...at })).toBe('rider at (312, 140), 412 px, predicted as person')
    expect(segmentLabel({ kind: 'correct', gt: 'rider', pred: 'rider', ...at })).toBe('correct rider at (312, 140), 412 px')
    expect(segmentLabel({ kind: 'predicted', gt: '-', pred: 'rider', ...at })).toBe('region predicted as rider at (312, 140), 412 px')
    expect(segmentLabel({ kind: 'instance', gt: 'car', pred: null, ...at })).toBe('car instance at (312, 140), 412 px')
    expect(segmentLabel({ kind: 'drawn', gt: '-', pred: '-', ...at })).toBe('drawn region at (312, 140), 412 px')
  })
})

describe('server-side chart SVG', () => {
  it('renders the definition with its numbers, without label halos, scaled through the root size', () => {
    const stats = syntheticStats({ classes: 6, alerts: 0 })
    const chart = contextDistributionChart(stats, stats.perClass[1])
    const svg = chartSvg(chart)
    expect(svg).toMatch(new RegExp(`^<svg[^>]* width="${chart.width}" height="${chart.height}"`))
    expect(svg).toContain('>person<')
    expect(svg).toContain(`>${(100 * stats.perClass[1].context[0].share).toFixed(1)}%<`)
    expect(svg).not.toContain('paint-order')
    const half = chartSvg(chart, 0.5)
    expect(half).toMatch(new RegExp(`^<svg[^>]* width="${(chart.width / 2).toFixed(2)}" height="${(chart.height / 2).toFixed(2)}"`))
    expect(half).toContain(`viewBox="0 0 ${chart.width} ${chart.height}"`)
  })

  it('spells symbols the standard PDF fonts lack and marks other characters', () => {
    expect(pdfText('rider ← bicycle × 2 − λ ≥ 0.5, café')).toBe('rider <- bicycle x 2 - lambda >= 0.5, café')
    expect(pdfText('歩行者')).toBe('???')
  })
})
