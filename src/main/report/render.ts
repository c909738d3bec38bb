import { partialLabel } from '@common/charts'
import { REPORT_SECTIONS, type ReportOptions } from '@common/methods/reports'
import { yieldToEventLoop } from '../cancellation'
import type { ReportData } from './data'
import { alertsSection } from './sections/alerts'
import { bookmarksSection } from './sections/bookmarks'
import { classesSection } from './sections/classes'
import { methodsSection } from './sections/methods'
import { titlePage } from './sections/title'
import { PdfWriter } from './writer'

/** Contents lines a page holds (level-1 lines are taller; this is the conservative count). */
const TOC_LINES_PER_PAGE = 34

/**
 * The PDF from gathered data: title page, contents, the chosen sections in a fixed order, page numbers. Pure in
 * its input, so tests can feed it statistics and cases of any size.
 */
export async function renderReport(
  data: ReportData,
  options: ReportOptions,
  onProgress?: (phase: string, done: number, total: number) => void
): Promise<{ pdf: Buffer; pages: number }> {
  const sections = REPORT_SECTIONS.filter((s) => options.sections.includes(s))
  const w = new PdfWriter({ title: data.meta.title, subject: `${data.meta.projectName}: audit job ${data.meta.job.id}`, creationDate: data.meta.generatedAt })
  titlePage(w, data, options)

  // The contents need the page numbers of what follows, so their pages are reserved now and filled at the end.
  const tocLines =
    sections.length +
    (sections.includes('classes') ? data.stats.perClass.length : 0) +
    (sections.includes('methods') ? 3 : 0) +
    (sections.includes('alerts') && data.stats.insufficient.length ? 1 : 0)
  const tocPages = Math.max(1, Math.ceil(tocLines / TOC_LINES_PER_PAGE))
  for (let i = 0; i < tocPages; i++) w.newPage()

  for (const [i, s] of sections.entries()) {
    onProgress?.('layout', i, sections.length)
    // Layout is synchronous; between sections the app's event loop (IPC, HTTP, progress events) gets a turn.
    await yieldToEventLoop()
    if (s === 'alerts') alertsSection(w, data, options)
    else if (s === 'classes') classesSection(w, data)
    else if (s === 'bookmarks') bookmarksSection(w, data)
    else methodsSection(w, data, options)
  }
  onProgress?.('layout', sections.length, sections.length)
  w.writeToc(1)
  // A partial audit says so on every page, so no page read alone passes for a finished audit's.
  const partial = partialLabel(data.stats)
  w.writeFooters(`${partial ? `${partial} - ` : ''}${data.meta.title}: ${data.meta.projectName}, audit job ${data.meta.job.id}`)
  const pages = w.pageCount
  return { pdf: await w.end(), pages }
}
