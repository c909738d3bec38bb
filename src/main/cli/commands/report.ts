import { Command, InvalidArgumentError } from 'commander'
import { parseSections, REPORT_SECTIONS, type ReportSection } from '@common/methods/reports'
import { printJson } from '../output'
import type { CommandContext } from '../program'
import { withProgress } from '../progress'
import { pathArg, positiveInt } from '../argParsers'
import { addStatsOptions, statsInput, type StatsCliOptions } from '../optionSets'

function sections(value: string): ReportSection[] {
  try {
    return parseSections(value)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}

interface ReportOpts extends StatsCliOptions {
  project: string
  out: string
  sections?: ReportSection[]
  job?: number
  title?: string
  force?: boolean
  progress: boolean
  json?: boolean
}

/** The statistics options are `ctxlens stats`'s, so a report shows what `stats` prints for the same flags. */
export function registerReport(program: Command, run: CommandContext): void {
  const command = program
    .command('report')
    .description('Write the PDF bias report of an audit: title page, contents, bias alerts, context per class, bookmarked cases, methods')
    .requiredOption('--project <file>', 'the project file', pathArg)
    .requiredOption('--out <file>', 'the PDF to write', pathArg)
    .option('--force', 'replace --out if it exists')
    .option('--sections <list>', `comma-separated sections (default: all): ${REPORT_SECTIONS.join(',')}`, sections)
    .option('--job <id>', 'audit job (default: the latest)', positiveInt)
    .option('--title <text>', 'title on the first page')
  addStatsOptions(command)
    .option('--no-progress', 'no progress bars')
    .option('--json', 'print the result as JSON')
    .action((opts: ReportOpts) =>
      run(opts, async (session) => {
        await session.openProject(opts.project)
        const result = await withProgress(session, opts.progress && !opts.json, () =>
          session.call('reports:save', {
            path: opts.out,
            overwrite: opts.force ?? false,
            ...statsInput(opts),
            ...(opts.sections ? { sections: opts.sections } : {}),
            ...(opts.job ? { jobId: opts.job } : {}),
            ...(opts.title ? { title: opts.title } : {})
          })
        )
        if (opts.json) return printJson(result)
        console.log(`Wrote ${result.path}: ${result.pages} pages, ${(result.bytes / 1024).toFixed(0)} KiB (${result.sections.join(', ')})`)
      })
    )
}
