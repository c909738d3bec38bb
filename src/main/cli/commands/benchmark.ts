import { Command, Option } from 'commander'
import { AppError } from '@common/errors'
import { BENCHMARK_PRESETS, type BenchmarkResult } from '@common/benchmark'
import { summaryText } from '../../benchmark/output'
import { printJson } from '../output'
import type { CommandContext } from '../program'
import { withProgress } from '../progress'
import { pathArg } from '../argParsers'

export function registerBenchmark(program: Command, run: CommandContext): void {
  program
    .command('benchmark')
    .description("Run the context-bias benchmark (the paper's Fig. 4): IoU on unbiased data, mCBD/mCBL of grid saliency, VG, IG, SG")
    .addOption(new Option('--preset <name>', 'a built-in configuration').choices([...BENCHMARK_PRESETS]).conflicts('config'))
    .option('--config <file>', 'a JSON benchmark configuration', pathArg)
    .option('--out <dir>', 'root of the run folders; a run resumes from its folder (default: ~/.context-lens/benchmark)', pathArg)
    .option('--no-progress', 'no progress bars')
    .option('--json', 'print the full result as JSON')
    .action((opts: { preset?: string; config?: string; out?: string; progress: boolean; json?: boolean }) =>
      run(opts, async (session) => {
        if (!opts.preset && !opts.config) throw new AppError('INVALID_PARAMETERS', 'give --preset quick|paper-small or --config FILE')
        const result: BenchmarkResult = await withProgress(session, opts.progress && !opts.json, () =>
          session.call('benchmark:run', {
            ...(opts.preset ? { preset: opts.preset as 'quick' } : { configFile: opts.config! }),
            ...(opts.out ? { outDir: opts.out } : {})
          })
        )
        if (opts.json) return printJson(result)
        process.stdout.write(summaryText(result))
        console.log(`\nResults: ${result.files.json}\n         ${result.files.csv}\nFigures: ${result.files.figures.filter((f) => f.endsWith('.svg')).join(', ')}`)
      })
    )
}
