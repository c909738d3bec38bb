import { resolve } from 'node:path'
import { AppError } from '@common/errors'
import type { ReportOptions, reportMethods } from '@common/methods/reports'
import { generateReport, reportFileName } from '../report'
import type { Project } from '../store/project'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'
import { checkOutputFile, writeOutputFile } from './outputFile'

/** Asks the user where to save (the desktop app's native dialog); null when they cancel. */
export type SaveDialog = (defaultName: string) => Promise<string | null>

// Only the Electron entry has a dialog to offer; it registers it for its context, every other adapter has none.
const saveDialogs = new WeakMap<ServiceContext, SaveDialog>()
export function provideSaveDialog(ctx: ServiceContext, dialog: SaveDialog): void {
  saveDialogs.set(ctx, dialog)
}

export function reportServices(ctx: ServiceContext): AreaServices<typeof reportMethods> {
  const generate = (project: Project, options: ReportOptions) =>
    ctx.tasks.run('report', (task) => generateReport(project, options, { signal: task.signal, onProgress: (phase, done, total) => task.progress(done, total, phase) }))

  return {
    'reports:pdf': async (options) => {
      const project = ctx.requireProject()
      const { pdf, pages, jobId } = await generate(project, options)
      return { filename: reportFileName(project, jobId), pdf: new Uint8Array(pdf.buffer, pdf.byteOffset, pdf.byteLength), pages, bytes: pdf.length, sections: options.sections }
    },

    'reports:save': async ({ path, overwrite, ...options }) => {
      const project = ctx.requireProject()
      let target = path
      // The dialog asked the user before replacing a file (showOverwriteConfirmation where that is not the default).
      let replace = overwrite
      if (target === undefined) {
        const dialog = saveDialogs.get(ctx)
        if (!dialog) throw new AppError('INVALID_PARAMETERS', 'Say where to write the report (path); a save dialog is only available in the desktop app')
        // The default job is only known once the statistics run; the default name names it when it was chosen.
        target = (await dialog(reportFileName(project, options.jobId))) ?? undefined
        if (target === undefined) return { path: null, pages: 0, bytes: 0, sections: options.sections }
        replace = true
      }
      const out = resolve(target)
      const file = { path: out, what: 'the report', overwrite: replace }
      await checkOutputFile(file)
      const { pdf, pages } = await generate(project, options)
      await writeOutputFile(file, pdf)
      project.reports.add({ title: options.title ?? 'Context bias report', params: { ...options }, path: out })
      return { path: out, pages, bytes: pdf.length, sections: options.sections }
    }
  }
}
