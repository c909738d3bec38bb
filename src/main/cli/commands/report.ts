import { Command, InvalidArgumentError, Option } from 'commander'
import { parseSections, REPORT_SECTIONS, type ReportSection } from '@common/methods/reports'
import { printJson } from '../output'
import type { CommandContext } from '../program'
import { withProgress } from '../progress'
import { positiveInt } from './predict'

function sections(value: string): ReportSection[] {
  try {
    return parseSections(value)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}

interface ReportOpts {
  project: string
  out: string
  sections?: ReportSection[]
  job?: number
  title?: string
  radius: number
  context: 'outside-object' | 'outside-request'
  bootstrap: number
  seed: number
  margin: number
  densityRatio: number
  minImages: number
  progress: boolean
  json?: boolean
}

/** The statistics options are `ctxlens stats`'s, so a report shows what `stats` prints for the same flags. */
export function registerReport(program: Command, run: CommandContext): void {
  program
    .command('report')
    .description('Write the PDF bias report of an audit: title page, contents, bias alerts, context per class, bookmarked cases, methods')
    .requiredOption('--project <file>', 'the project file')
    .requiredOption('--out <file>', 'the PDF to write')
    .option('--sections <list>', `comma-separated sections (default: all): ${REPORT_SECTIONS.join(',')}`, sections)
    .option('--job <id>', 'audit job (default: the latest)', positiveInt)
    .option('--title <text>', 'title on the first page')
    .option('--radius <px>', 'contour-baseline dilation radius', positiveInt, 4)
    .addOption(
      new Option('--context <what>', "outside-object: leave the rest of each requested object out of its context; outside-request: the paper's C = 1 - R")
        .choices(['outside-object', 'outside-request'])
        .default('outside-object')
    )
    .option('--bootstrap <n>', 'bootstrap resamples', positiveInt, 1000)
    .option('--seed <n>', 'bootstrap seed', Number, 0)
    .option('--margin <x>', 'share - baseline margin for alerts', Number, 0.05)
    .option('--density-ratio <x>', 'density ratio threshold for alerts', Number, 3)
    .option('--min-images <n>', 'fewest images a requested class needs for alerts', positiveInt, 3)
    .option('--no-progress', 'no progress bars')
    .option('--json', 'print the result as JSON')
    .action((opts: ReportOpts) =>
      run(opts, async (session) => {
        await session.openProject(opts.project)
        const result = await withProgress(session, opts.progress && !opts.json, () =>
          session.call('reports:save', {
            path: opts.out,
            contourRadius: opts.radius,
            context: opts.context,
            bootstrap: { samples: opts.bootstrap, seed: opts.seed },
            alerts: { shareMargin: opts.margin, densityRatio: opts.densityRatio, minImages: opts.minImages },
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
