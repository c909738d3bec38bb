import { evidenceText, partialLabel, partialText } from '@common/charts'
import { REPORT_SECTION_TITLES, type ReportOptions } from '@common/methods/reports'
import type { ReportData } from '../data'
import { keyParams } from '../params'
import { pdfText } from '../pdfText'
import { FONT, type PdfWriter } from '../writer'

const METHOD_NAMES: Record<string, string> = {
  grid: 'Grid saliency',
  context: 'Context saliency',
  vg: 'Vanilla gradient',
  ig: 'Integrated gradients',
  sg: 'SmoothGrad'
}
export const methodName = (m: string): string => METHOD_NAMES[m] ?? m

/** Page 1: what was audited, with what, by which version, when. Enough to file the report without the project. */
export function titlePage(w: PdfWriter, data: ReportData, options: ReportOptions): void {
  const { meta, stats } = data
  const doc = w.doc
  doc.y = 120
  doc.font(FONT.bold).fontSize(26).text(pdfText(meta.title), w.left, doc.y, { width: w.width })
  w.space(6)
  doc.font(FONT.regular).fontSize(13).fillColor('#555555').text(pdfText(`${meta.projectName}: ${methodName(meta.method).toLowerCase()} audit of ${meta.model.name} on ${meta.dataset.name}`), { width: w.width })
  doc.fillColor('#1a1a1a')
  const partial = partialText(stats)
  if (partial) {
    w.space(14)
    doc.font(FONT.bold).fontSize(16).fillColor('#b00020').text(pdfText(partialLabel(stats)!), w.left, doc.y, { width: w.width })
    doc.font(FONT.regular).fontSize(10).text(pdfText(partial), { width: w.width })
    doc.fillColor('#1a1a1a')
  }
  w.space(30)
  const split = meta.dataset.split ? `, split ${meta.dataset.split}` : ''
  w.facts([
    ['Project', meta.projectName],
    ['Project file', meta.projectPath],
    ['Dataset', `${meta.dataset.name} (#${meta.dataset.id}, ${meta.dataset.format}, ${meta.dataset.images} images${split})`],
    ['Model', `${meta.model.name} (#${meta.model.id})`],
    ['Model content hash', meta.model.contentHash],
    ['Architecture', meta.model.architecture],
    ...(meta.classMapping ? [['Model classes', meta.classMapping.replace(/^Model classes /, '')] as [string, string]] : []),
    ['Audit job', `#${meta.job.id}, ${meta.job.state}: ${meta.job.done} of ${meta.job.total} requests explained${meta.job.failed ? `, ${meta.job.failed} failed` : ''} (started ${meta.job.createdAt})`],
    ['Method', `${methodName(meta.method)} (preset ${meta.preset})`],
    ['Parameters', keyParams(meta.params)],
    [
      'Requests',
      [
        `${meta.selection.classes?.join(', ') ?? 'all classes'}; ${meta.selection.kinds.join(' and ')} regions of at least ${meta.selection.minArea} px`,
        meta.selection.samplePerPair ? `at most ${meta.selection.samplePerPair} per (ground truth, prediction) pair` : '',
        meta.selection.sampleSize ? `at most ${meta.selection.sampleSize} in all` : '',
        meta.selection.samplePerPair || meta.selection.sampleSize ? `seeded sample (seed ${meta.selection.seed})` : ''
      ]
        .filter(Boolean)
        .join('; ')
    ],
    [
      'Statistics',
      `${evidenceText(stats.evidence)}; ${stats.options.includeUnrecovered ? 'unrecovered explanations counted' : 'recovered explanations only'}; contour baseline radius ${stats.options.contourRadius} px; ${stats.options.bootstrapSamples} bootstrap resamples over images at ${Math.round(100 * stats.options.level)}% (seed ${stats.options.seed})`
    ],
    ['Bias alerts', `${stats.alerts.length}${stats.insufficient.length ? `; ${stats.insufficient.length} more on insufficient evidence (fewer than ${stats.options.minExplanations} explanations or ${stats.options.minImages} images)` : ''}`],
    ['Sections', options.sections.map((s) => REPORT_SECTION_TITLES[s]).join(', ')],
    ['Context Lens version', meta.appVersion],
    ['Generated', meta.generatedAt.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')]
  ])
}
