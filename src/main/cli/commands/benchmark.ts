import { Command, Option } from 'commander'
import { AppError } from '@common/errors'
import { BENCHMARK_PRESETS, type BenchmarkPreset, type BenchmarkResult } from '@common/benchmark'
import type { Input } from '@common/contract'
import { printJson } from '../output'
import type { CommandContext } from '../program'
import type { CliSession } from '../session'
import { withProgress } from '../progress'
import { pathArg, positiveInt } from '../argParsers'

export interface BenchmarkOptions {
  preset?: string
  config?: string
  out?: string
  /** A stored benchmark job to continue (its own config, whatever --preset or --config would say). */
  resume?: number
  /** commander's --no-sanity-check: false when given, true otherwise. */
  sanityCheck?: boolean
}

/**
 * The service input of the command's options. Only --no-sanity-check reaches the service: without it the config
 * decides (the presets and the schema default run the check), so a config file that turns it off stays off.
 */
export function benchmarkRunInput(opts: BenchmarkOptions): Input<'benchmark:run'> {
  if (!opts.preset && !opts.config) throw new AppError('INVALID_PARAMETERS', `give --preset ${BENCHMARK_PRESETS.join('|')}, --config FILE or --resume JOB`)
  return {
    ...(opts.preset ? { preset: opts.preset as BenchmarkPreset } : { configFile: opts.config! }),
    ...(opts.out ? { outDir: opts.out } : {}),
    ...(opts.sanityCheck === false ? { sanityCheck: false } : {})
  }
}

/**
 * Every run is a job in the app's job list (`ctxlens jobs list`); Ctrl-C pauses it, and the same command again, or
 * --resume, continues it from its finished parts.
 */
async function runOrResume(session: CliSession, opts: BenchmarkOptions): Promise<BenchmarkResult> {
  if (opts.resume === undefined) return session.call('benchmark:run', benchmarkRunInput(opts))
  const job = await session.call('benchmark:resume', { jobId: opts.resume, wait: true })
  if (job.result) return job.result
  if (job.state === 'done') {
    throw new AppError('NOT_FOUND', `Benchmark job ${job.id} finished, but its results are no longer in ${job.params.runDir}`, { jobId: job.id })
  }
  throw new AppError('CANCELLED', `Benchmark job ${job.id} ${job.state} after ${job.done} of ${job.total} steps; --resume ${job.id} continues it`, { jobId: job.id })
}

export function registerBenchmark(program: Command, run: CommandContext): void {
  program
    .command('benchmark')
    .description("Run the context-bias benchmark (the paper's Fig. 4): IoU on unbiased data, mCBD/mCBL of grid saliency, VG, IG, SG")
    .addOption(new Option('--preset <name>', 'a built-in configuration').choices([...BENCHMARK_PRESETS]).conflicts('config'))
    .option('--config <file>', 'a JSON benchmark configuration', pathArg)
    .option('--out <dir>', 'root of the run folders; a run resumes from its folder (default: ~/.context-lens/benchmark)', pathArg)
    .option('--no-sanity-check', 'skip the sanity check (masks after re-initialising the model layer by layer, Adebayo et al. 2018)')
    .addOption(
      new Option('--resume <job>', 'continue a paused or interrupted benchmark job (ctxlens jobs list) with its own config').argParser(positiveInt).conflicts(['preset', 'config'])
    )
    .option('--no-progress', 'no progress bars')
    .option('--json', 'print the full result as JSON')
    .action((opts: BenchmarkOptions & { progress: boolean; json?: boolean }) =>
      run(opts, async (session) => {
        const result: BenchmarkResult = await withProgress(session, opts.progress && !opts.json, () => runOrResume(session, opts))
        if (opts.json) return printJson(result)
        const summary = await session.call('benchmark:summary', { runDir: result.runDir })
        process.stdout.write(summary.text)
        console.log(`\nResults: ${result.files.json}\n         ${result.files.csv}${result.files.verdicts ? `\nVerdicts: ${result.files.verdicts}` : ''}\nFigures: ${result.files.figures.filter((f) => f.endsWith('.svg')).join(', ')}`)
        if (result.sanity) console.log(`Sanity:  ${result.sanity.files.markdown}\n${summary.sanity}`)
        else console.log('Sanity check skipped (--no-sanity-check or the config turns it off).')
      })
    )
}
