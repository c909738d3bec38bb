import type { EChartsOption } from 'echarts'
import type { AuditStats, RequestedClassStats } from '../audit'
import { evidenceText, isThin, thinNote } from './evidence'
import { count, round } from './format'
import { presentContext, table1Label, table1Rows } from './tables'
import { CHART_WIDTH, COLOURS, type ReportChart } from './types'

const barHeight = (categories: number, seriesCount: number): number => 100 + categories * Math.max(20, 9 * seriesCount + 6)

/** ECharts' legend layout at its defaults: 25 px icon, 5 px to the text, 10 px between items, 12 px text. */
const LEGEND_ROW = 24
const legendItemWidth = (name: string): number => 25 + 5 + 6.8 * name.length + 10

/**
 * How many rows the legend wraps onto (a generous estimate of the text width: an extra row costs some space, a
 * missing one puts the legend on the top bars). Table 1's entries carry their evidence and grow long.
 */
export function legendRows(names: string[], width = CHART_WIDTH - 10): number {
  let rows = 1
  let x = 0
  for (const n of names) {
    const w = legendItemWidth(n)
    if (x > 0 && x + w > width) {
      rows++
      x = 0
    }
    x += w
  }
  return rows
}

/** Room above the plot for a legend of `names`: the grid starts below its last row. */
const legendRoom = (names: string[]): number => LEGEND_ROW * (legendRows(names) - 1)

/** Bars per chart at most, so a chart fits a page; the tables beside the charts list every class. */
export const MAX_BARS = 20
const shownNote = (shown: number, all: number): string => (all > shown ? ` The ${shown} largest of ${all} classes shown; the table lists all.` : '')

/**
 * A bar's value with its label, or without one at zero: zero bars have no length, so the labels of a category's
 * series would stack on one another at the axis. Null (a group with nothing counted) draws neither.
 */
const barDatum = (v: number | null): number | null | { value: number; label: { show: false } } => (v === 0 ? { value: 0, label: { show: false } } : v)

/** Horizontal bars, one category per context class, the largest on top (ECharts draws the first at the bottom). */
function horizontalBars(
  categories: string[],
  series: { name: string; colour: string; values: (number | null)[] }[],
  opts: { axisName: string; unit: string; markAt?: number }
): EChartsOption {
  const reversed = [...categories].reverse()
  return {
    animation: false,
    grid: { left: 10, right: 40, top: 40 + legendRoom(series.map((s) => s.name)), bottom: 40, outerBoundsMode: 'same', outerBoundsContain: 'axisLabel' },
    legend: { top: 0, data: series.map((s) => s.name) },
    tooltip: { trigger: 'axis' as const, axisPointer: { type: 'shadow' as const } },
    xAxis: { type: 'value' as const, name: opts.axisName, nameLocation: 'middle' as const, nameGap: 26 },
    yAxis: { type: 'category' as const, data: reversed },
    series: series.map((s, i) => ({
      type: 'bar' as const,
      name: s.name,
      itemStyle: { color: s.colour },
      data: [...s.values].reverse().map(barDatum),
      // On paper: a dashed reference line runs behind a label (an opaque box) instead of through its digits.
      label: { show: true, position: 'right' as const, formatter: `{c}${opts.unit}`, fontSize: 9, ...(opts.markAt !== undefined ? { backgroundColor: '#ffffff', padding: [0, 1] } : {}) },
      ...(i === 0 && opts.markAt !== undefined
        ? { markLine: { silent: true, z: 2, symbol: 'none', lineStyle: { color: COLOURS.threshold, type: 'dashed' as const }, label: { show: false }, data: [{ xAxis: opts.markAt, z2: 2 }] } }
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
  // A group with nothing counted has no shares to draw (its bars would only leave gaps): the caption names it.
  const drawn = rows.filter((r) => r.evidence.explanations > 0)
  if (drawn.length === 0) return null
  const empty = rows.filter((r) => r.evidence.explanations === 0).map((r) => table1Label(r, stats.options))
  const series = drawn.map((r) => ({
    name: table1Label(r, stats.options),
    colour: COLOURS.rows[rows.indexOf(r) % COLOURS.rows.length],
    values: ids.map((id) => round(100 * (r.shares[id] ?? 0), 1))
  }))
  const thin = rows.some((r) => r.evidence.explanations > 0 && isThin(r.evidence, stats.options))
  return {
    key: `table1-${gtClass}`,
    title: `${rows[0].gtName}: correct vs. misclassified`,
    caption: `Context saliency share per ground-truth class for ${rows[0].gtName} regions the model got right and for each confusion (Table 1); classes under 0.5% everywhere left out.${shownNote(ids.length, all)}${empty.length ? ` Nothing counted, so not drawn: ${empty.join('; ')}.` : ''}${thin ? ` ${thinNote(stats.options)}` : ''}`,
    width: CHART_WIDTH,
    height: barHeight(ids.length, series.length) + legendRoom(series.map((x) => x.name)),
    option: horizontalBars(
      ids.map(nameOf),
      series,
      { axisName: 'share of context (%)', unit: '%' }
    )
  }
}
