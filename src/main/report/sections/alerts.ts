import type { BiasAlert } from '@common/audit'
import { alertsTable, biasAlertsChart, partialText, percent, rankAlerts } from '@common/charts'
import type { ReportOptions } from '@common/methods/reports'
import type { ReportData } from '../data'
import type { PdfWriter, RowStrip } from '../writer'

/**
 * Under each alert row, its examples as the image with the request outlined beside the saliency over it, each
 * pair captioned with the file it shows; an example whose image could not be read says why instead.
 */
function exampleStrip(data: ReportData, alerts: BiasAlert[], slots: number): (row: number) => RowStrip | null {
  const ranked = rankAlerts(alerts)
  return (row) => {
    const examples = ranked[row]?.examples ?? []
    if (examples.length === 0) return null
    return {
      slots,
      groups: examples.map((e) => {
        const t = data.examples.get(e.explanationId)
        const name = `${e.image.name}${e.image.split ? ` (${e.image.split})` : ''}`
        if (!t || 'problem' in t) return { images: [], caption: `${name}: no thumbnails, ${t?.problem ?? 'not gathered'}` }
        return {
          images: [
            { data: t.image, aspect: t.aspect },
            { data: t.saliency, aspect: t.aspect }
          ],
          caption: `${name}: request (blue), saliency (red), ${percent(e.share, 0)} on the context class`
        }
      })
    }
  }
}

/** The alerts, strongest first, each with its interval, threshold and example explanations; then as charts. */
export function alertsSection(w: PdfWriter, data: ReportData, options: ReportOptions): void {
  const { stats } = data
  const level = Math.round(100 * stats.options.level)
  // Two images per example, at the size three examples (the default) would have: small, whatever the count.
  const slots = Math.max(6, 2 * Math.max(0, ...[...stats.alerts, ...stats.insufficient].map((a) => a.examples.length)))
  w.heading('Bias alerts', 1)
  w.paragraph(
    `An alert says that a requested class's context saliency leans on a context class more than chance placement would: either its share exceeds the share of a ${stats.options.contourRadius}-pixel ring around the requests (the contour baseline) by more than ${options.alerts.shareMargin}, or saliency per context pixel of that class is more than ${options.alerts.densityRatio} times that of the average context. The test uses the lower end of a ${level}% bootstrap interval over images (${stats.options.bootstrapSamples} resamples). ${counted(data)} An alert needs at least ${options.alerts.minExplanations} explanations on ${options.alerts.minImages} distinct images; one that clears its threshold on less is listed apart as insufficient evidence. Requested classes are the audited (ground-truth) classes of the requests. Alerts are ranked by how far that lower end clears its threshold (lower bound / threshold).`
  )
  const partial = partialText(stats)
  if (partial) w.paragraph(partial, { font: 'bold', colour: '#b00020' })
  if (stats.alerts.length === 0) {
    w.paragraph(`No bias alerts: none of the ${stats.perClass.length} requested classes leaned on a context class beyond these thresholds with ${level}% confidence on enough evidence.`, { font: 'bold' })
  } else {
    w.table(alertsTable(stats), `${stats.alerts.length} bias alert${stats.alerts.length === 1 ? '' : 's'}, ranked`, { strip: exampleStrip(data, stats.alerts, slots) })
    for (const reason of ['share', 'density'] as const) {
      const chart = biasAlertsChart(stats, reason)
      if (chart) w.chart(chart)
    }
  }
  if (stats.insufficient.length) {
    w.heading('Insufficient evidence', 2)
    w.paragraph(
      `These context classes cleared an alert threshold, but on fewer than ${options.alerts.minExplanations} explanations or ${options.alerts.minImages} images: too little to stand as an alert. More explanations of these classes would settle them.`
    )
    w.table(alertsTable(stats, 'insufficient'), `${stats.insufficient.length} on insufficient evidence`, { strip: exampleStrip(data, stats.insufficient, slots) })
  }
}

/** Which explanations the figures count, and how many of the audit's recovered. */
function counted(data: ReportData): string {
  const e = data.stats.evidence
  const recovery = e.recoveryRate === null ? '' : ` ${e.recovered} of the audit's ${e.recovered + e.notRecovered} explanations recovered the model's score (${Math.round(100 * e.recoveryRate)}%).`
  return data.stats.options.includeUnrecovered
    ? `All explanations are counted, including those whose perturbed image did not give back the model's score.${recovery}`
    : `Only recovered explanations are counted (the perturbed image gave back the model's score); an unrecovered mask does not show what the model needs.${recovery}`
}
