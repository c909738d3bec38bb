import { contextDistributionChart, evidenceText, contextTable, densityLiftChart, table1Chart, table1Table } from '@common/charts'
import type { ReportData } from '../data'
import type { PdfWriter } from '../writer'

/** Per requested class: Fig. 6 (chart and numbers), density and lift, and Table 1's correct vs. misclassified comparison. */
export function classesSection(w: PdfWriter, data: ReportData): void {
  const { stats } = data
  w.heading('Context per requested class', 1)
  w.paragraph(
    `For each requested class, where its ${stats.method} saliency fell outside the request, by ground-truth class of the context pixels (the paper's Fig. 6), beside the same distribution over a uniform ${stats.options.contourRadius}-pixel ring around each request. Then the same shares for regions the model labelled correctly and for each confusion (Table 1).`
  )
  if (stats.skipped.length) w.paragraph(`${stats.skipped.length} explanations were left out because their image's ground truth could not be read (first: ${stats.skipped[0].reason}).`, { colour: '#8a4b00' })
  if (stats.perClass.length === 0) {
    w.paragraph('The audit job has no explanations yet.')
    return
  }
  for (const c of stats.perClass) {
    const distribution = contextDistributionChart(stats, c)
    // The heading stays with the line under it and its first chart.
    w.heading(`${c.name} (class ${c.classId})`, 2, 36 + w.spaceFor(distribution))
    const object = c.objectShare > 0 ? ` ${(100 * c.objectShare).toFixed(1)}% of the saliency outside the requests lay on the rest of the requested ${c.name} objects and is not counted as context.` : ''
    w.paragraph(`Rests on ${evidenceText(c.evidence)}.${object}`)
    if (c.explanations === 0) {
      w.paragraph(`No ${stats.options.includeUnrecovered ? '' : 'recovered '}explanation of ${c.name} to count.`, { colour: '#8a4b00' })
      continue
    }
    w.chart(distribution)
    w.table(contextTable(c, stats.options), `${c.name}: context shares, baseline, lift and density`)
    w.chart(densityLiftChart(c))
    const t1 = table1Table(stats, c.classId)
    if (t1) {
      w.table(t1, `${c.name}: correct vs. misclassified (share of context saliency)`)
      const chart = table1Chart(stats, c.classId)
      if (chart) w.chart(chart)
    } else w.paragraph(`No correct or misclassified ${c.name} regions were explained, so there is no Table 1 comparison for it.`)
  }
}
