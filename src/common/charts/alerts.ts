import type { AuditStats, BiasAlert } from '../audit'
import { round } from './format'
import { CHART_WIDTH, COLOURS, type ReportChart } from './types'

/**
 * How strongly an alert stands: the conservative end of its interval over its threshold (2 = the lower bound is
 * twice what raises an alert). Share and density alerts live on different scales; this ratio puts them on one.
 */
export function alertStrength(a: BiasAlert): number {
  return a.threshold > 0 ? a.ci[0] / a.threshold : Number.POSITIVE_INFINITY
}

/** Strongest first; ties by the lower bound, then by class ids so the order is stable. */
export function rankAlerts(alerts: readonly BiasAlert[]): BiasAlert[] {
  return [...alerts].sort(
    (a, b) =>
      alertStrength(b) - alertStrength(a) ||
      b.ci[0] - a.ci[0] ||
      a.requestedClass - b.requestedClass ||
      a.contextClass - b.contextClass ||
      a.reason.localeCompare(b.reason)
  )
}

/**
 * The alerts of one kind as floating interval bars (the bootstrap CI) with the estimate as a dot and the alert
 * threshold as a line, strongest at the top. Null when there are none of that kind.
 */
export function biasAlertsChart(stats: AuditStats, reason: BiasAlert['reason'], limit = 25): ReportChart | null {
  const ranked = rankAlerts(stats.alerts.filter((a) => a.reason === reason))
  if (ranked.length === 0) return null
  // ECharts draws the first category at the bottom: reverse so rank 1 is on top.
  const shown = ranked.slice(0, limit).reverse()
  const categories = shown.map((a) => `${a.requestedName} <- ${a.contextName}`)
  const level = Math.round(100 * stats.options.level)
  const axisName = reason === 'share' ? 'share - contour baseline share' : 'density ratio (x mean context density)'
  const height = 90 + 32 * shown.length
  const threshold = `threshold (${round(ranked[0].threshold, 3)})`
  return {
    key: `alerts-${reason}`,
    title: reason === 'share' ? 'Share alerts: saliency share above the contour baseline' : 'Density alerts: context classes salient out of proportion to their area',
    caption: `Bar: ${level}% bootstrap interval over images; dot: estimate; line: alert threshold (${round(ranked[0].threshold, 3)}). Strongest alert on top.${ranked.length > shown.length ? ` The ${shown.length} strongest of ${ranked.length} shown; the table lists all.` : ''}`,
    width: CHART_WIDTH,
    height,
    option: {
      animation: false,
      grid: { left: 10, right: 30, top: 40, bottom: 40, outerBoundsMode: 'same', outerBoundsContain: 'axisLabel' },
      // A dashed stroke as the threshold's legend icon (icons are filled shapes: three short bars).
      legend: { top: 0, data: [`${level}% interval`, 'estimate', { name: threshold, icon: 'path://M0 6h7v2H0zM10 6h7v2h-7zM20 6h7v2h-7z' }] },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      xAxis: { type: 'value', name: axisName, nameLocation: 'middle', nameGap: 26 },
      yAxis: { type: 'category', data: categories },
      series: [
        // An invisible bar up to the lower bound carries the visible interval bar stacked on it.
        { type: 'bar', stack: 'ci', silent: true, itemStyle: { color: 'transparent' }, data: shown.map((a) => round(a.ci[0])), barWidth: 10, tooltip: { show: false } },
        {
          type: 'bar',
          name: `${level}% interval`,
          stack: 'ci',
          itemStyle: { color: reason === 'share' ? COLOURS.saliency : COLOURS.density, opacity: 0.45 },
          data: shown.map((a) => round(a.ci[1] - a.ci[0])),
          barWidth: 10
        },
        // The threshold is named in the legend, not on the plot, where its label would sit on the estimates' labels.
        {
          type: 'line',
          name: threshold,
          data: [],
          symbol: 'none',
          itemStyle: { color: COLOURS.threshold },
          lineStyle: { color: COLOURS.threshold, type: 'dashed' },
          // Over the bars, under the estimates' labels (z2 between the two), so it never crosses their digits.
          markLine: { silent: true, z: 2, symbol: 'none', lineStyle: { color: COLOURS.threshold, type: 'dashed' }, label: { show: false }, data: [{ xAxis: ranked[0].threshold, z2: 2 }] }
        },
        {
          type: 'scatter',
          name: 'estimate',
          symbolSize: 9,
          itemStyle: { color: reason === 'share' ? COLOURS.saliency : COLOURS.density },
          data: shown.map((a, i) => [round(a.value, 3), categories[i]]),
          label: { show: true, position: 'top', formatter: '{@[0]}', fontSize: 9, backgroundColor: '#ffffff', padding: [0, 1] }
        }
      ]
    }
  }
}
