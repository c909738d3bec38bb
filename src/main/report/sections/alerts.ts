import { alertsTable, biasAlertsChart } from '@common/charts'
import type { ReportOptions } from '@common/methods/reports'
import type { ReportData } from '../data'
import type { PdfWriter } from '../writer'

/** The alerts, strongest first, each with its interval, threshold and example explanations; then as charts. */
export function alertsSection(w: PdfWriter, data: ReportData, options: ReportOptions): void {
  const { stats } = data
  const level = Math.round(100 * stats.options.level)
  w.heading('Bias alerts', 1)
  w.paragraph(
    `An alert says that a requested class's context saliency leans on a context class more than chance placement would: either its share exceeds the share of a ${stats.options.contourRadius}-pixel ring around the requests (the contour baseline) by more than ${options.alerts.shareMargin}, or saliency per context pixel of that class is more than ${options.alerts.densityRatio} times that of the average context. The test uses the lower end of a ${level}% bootstrap interval over images (${stats.options.bootstrapSamples} resamples), and classes explained on fewer than ${options.alerts.minImages} images raise none. Alerts are ranked by how far that lower end clears its threshold (lower bound / threshold).`
  )
  if (stats.alerts.length === 0) {
    w.paragraph(`No bias alerts: none of the ${stats.perClass.length} requested classes leaned on a context class beyond these thresholds with ${level}% confidence.`, { font: 'bold' })
    return
  }
  w.table(alertsTable(stats), `${stats.alerts.length} bias alert${stats.alerts.length === 1 ? '' : 's'}, ranked`)
  for (const reason of ['share', 'density'] as const) {
    const chart = biasAlertsChart(stats, reason)
    if (chart) w.chart(chart)
  }
}
