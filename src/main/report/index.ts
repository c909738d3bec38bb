import type { ReportOptions } from '@common/methods/reports'
import { throwIfAborted } from '../cancellation'
import type { Project } from '../store/project'
import { collectReportData, type CollectHooks } from './data'

export { collectReportData, type ReportCase, type ReportData, type ReportMeta } from './data'

/**
 * The PDF from gathered data (./render). Loaded when a report is made: pdfkit and ECharts take about a second to
 * load, which every start of the CLI and of the app would pay otherwise.
 */
export async function renderReport(...args: Parameters<typeof import('./render').renderReport>): Promise<{ pdf: Buffer; pages: number }> {
  const { renderReport } = await import('./render')
  return renderReport(...args)
}

/** A project's report: statistics of the chosen (default latest) audit job, its bookmarks, and the PDF. */
export async function generateReport(project: Project, options: ReportOptions, hooks: CollectHooks = {}): Promise<{ pdf: Buffer; pages: number; jobId: number }> {
  const data = await collectReportData(project, options, hooks)
  throwIfAborted(hooks.signal, 'The report was cancelled')
  return { ...(await renderReport(data, options, hooks.onProgress)), jobId: data.stats.jobId }
}

/** A file name that says what the report is: project, job and date. */
export function reportFileName(project: Project, jobId: number | undefined, now = new Date()): string {
  const name = (project.meta.get('name') ?? 'project').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'project'
  return `${name}-${jobId !== undefined ? `job${jobId}-` : ''}context-report-${now.toISOString().slice(0, 10)}.pdf`
}
