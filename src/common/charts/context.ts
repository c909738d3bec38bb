import type { EChartsOption } from 'echarts'
import type { AuditStats, RequestedClassStats } from '../audit'
import { evidenceText } from './evidence'
import { count, round } from './format'
import { presentContext, table1Label, table1Rows } from './tables'
import { CHART_WIDTH, COLOURS, type ReportChart } from './types'

const barHeight = (categories: number, seriesCount: number): number => 100 + categories * Math.max(20, 9 * seriesCount + 6)

/** Bars per chart at most, so a chart fits a page; the tables beside the charts list every class. */
export const MAX_BARS = 20
const shownNote = (shown: number, all: number): string => (all > shown ? ` The ${shown} largest of ${all} classes shown; the table lists all.` : '')

/** Horizontal bars, one category per context class, the largest on top (ECharts draws the first at the bottom). */
function horizontalBars(
  categories: string[],
  series: { name: string; colour: string; values: (number | null)[] }[],
  opts: { axisName: string; unit: string; markAt?: number }
): EChartsOption {
  const reversed = [...categories].reverse()
  return {
    animation: false,
    grid: { left: 10, right: 40, top: 40, bottom: 40, outerBoundsMode: 'same', outerBoundsContain: 'axisLabel' },
    legend: { top: 0, data: series.map((s) => s.name) },
    tooltip: { trigger: 'axis' as const, axisPointer: { type: 'shadow' as const } },
    xAxis: { type: 'value' as const, name: opts.axisName, nameLocation: 'middle' as const, nameGap: 26 },
    yAxis: { type: 'category' as const, data: reversed },
    series: series.map((s, i) => ({
      type: 'bar' as const,
      name: s.name,
      itemStyle: { color: s.colour },
      data: [...s.values].reverse(),
      label: { show: true, position: 'right' as const, formatter: `{c}${opts.unit}`, fontSize: 9 },
      ...(i === 0 && opts.markAt !== undefined
        ? { markLine: { silent: true, symbol: 'none', lineStyle: { color: COLOURS.threshold, type: 'dashed' as const }, label: { show: false }, data: [{ xAxis: opts.markAt }] } }
        : {})
    }))
  }
}

/**
 * Fig. 6 for one requested class: where its context saliency went, per ground-truth context class, beside the
 * share of a uniform ring around the request (the dilated contour). Bars in percent.
 */
export function contextDistributionChart(stats: AuditStats, c: RequestedClassStats): ReportChart {
  const present = presentContext(c)
  const rows = present.slice(0, MAX_BARS)
  const categories = rows.map((k) => k.name)
  return {
    key: `context-${c.classId}`,
    title: `${c.name}: context saliency vs. contour baseline`,
    caption: `Share of all context saliency of ${c.name} requests (${evidenceText(c.evidence)}) per ground-truth class, beside the share of a ${stats.options.contourRadius}-pixel ring around each request.${shownNote(rows.length, present.length)}`,
    width: CHART_WIDTH,
    height: barHeight(categories.length, 2),
    option: horizontalBars(
      categories,
      [
        { name: 'context saliency', colour: COLOURS.saliency, values: rows.map((k) => round(100 * k.share, 1)) },
        { name: 'contour baseline', colour: COLOURS.baseline, values: rows.map((k) => round(100 * k.baselineShare, 1)) }
      ],
      { axisName: 'share of context (%)', unit: '%' }
    )
  }
}

/** Density ratio and lift for one requested class; 1 (dashed) means no preference over the average context / the ring. */
export function densityLiftChart(c: RequestedClassStats): ReportChart {
  const present = presentContext(c)
  const rows = present.slice(0, MAX_BARS)
  const categories = rows.map((k) => k.name)
  return {
    key: `density-${c.classId}`,
    title: `${c.name}: density ratio and lift`,
    caption: 'Density ratio: saliency per context pixel of the class over that of all context. Lift: saliency share over contour-baseline share. Dashed line: 1, no preference.' + shownNote(rows.length, present.length),
    width: CHART_WIDTH,
    height: barHeight(categories.length, 2),
    option: horizontalBars(
      categories,
      [
        { name: 'density ratio', colour: COLOURS.density, values: rows.map((k) => round(k.densityRatio, 2)) },
        { name: 'lift', colour: COLOURS.lift, values: rows.map((k) => round(k.lift, 2)) }
      ],
      { axisName: 'ratio (x)', unit: '', markAt: 1 }
    )
  }
}

/**
 * Table 1 for one ground-truth class as bars: the context shares of its correctly predicted regions beside those of
 * each confusion (e.g. rider predicted as person). Null when the audit has no correct/misclassified rows for it.
 */
export function table1Chart(stats: AuditStats, gtClass: number): ReportChart | null {
  const rows = table1Rows(stats, gtClass)
  if (rows.length === 0) return null
  const nameOf = (id: string): string => stats.classes.find((c) => String(c.id) === id)?.name ?? id
  const ids = Object.keys(rows[0].shares).filter((id) => rows.some((r) => (r.shares[id] ?? 0) >= 0.005))
  ids.sort((a, b) => Math.max(...rows.map((r) => r.shares[b] ?? 0)) - Math.max(...rows.map((r) => r.shares[a] ?? 0)) || Number(a) - Number(b))
  const all = ids.length
  ids.splice(MAX_BARS)
  return {
    key: `table1-${gtClass}`,
    title: `${rows[0].gtName}: correct vs. misclassified`,
    caption: `Context saliency share per ground-truth class for ${rows[0].gtName} regions the model got right and for each confusion (Table 1); classes under 0.5% everywhere left out.${shownNote(ids.length, all)}`,
    width: CHART_WIDTH,
    height: barHeight(ids.length, rows.length),
    option: horizontalBars(
      ids.map(nameOf),
      rows.map((r, i) => ({ name: table1Label(r), colour: COLOURS.rows[i % COLOURS.rows.length], values: ids.map((id) => round(100 * (r.shares[id] ?? 0), 1)) })),
      { axisName: 'share of context (%)', unit: '%' }
    )
  }
}
