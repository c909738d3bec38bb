import { join, resolve } from 'node:path'
import { BenchmarkJobParamsSchema } from '@common/benchmark'
import type { ParsedInput } from '@common/contract'
import { AppError } from '@common/errors'
import type { BenchmarkJob, benchmarkMethods } from '@common/methods/benchmark'
import type { JobSummary } from '@common/types'
import {
  BENCHMARK_JOB_KIND,
  benchmarkJobParams,
  benchmarkJobParamsFor,
  benchmarkJobSubject,
  createBenchmarkJob,
  listPresets,
  parseBenchmarkConfig,
  presetConfig,
  readBenchmarkConfig,
  readBenchmarkResult,
  runBenchmarkJob,
  sanitySummaryLine,
  summaryText,
  sameBenchmarkConfig,
  withSanityCheck,
  type BenchmarkJobOutcome
} from '../benchmark'
import type { StopReason } from '../jobs/lease'
import { JobRunner } from '../jobs/runner'
import { getJob, jobView } from '../jobs/status'
import { appHome } from '../paths'
import type { JobStore } from '../store/jobStore'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'

type Step = NonNullable<BenchmarkJob['step']>

/** What a stopped run's caller is told: which job, how far it got, and how to go on. */
function stoppedError(job: JobSummary): AppError {
  const how =
    job.state === 'cancelled'
      ? 'its finished parts stay in its run folder, and a new run of the same config starts from them'
      : `run the same config again (or ctxlens benchmark --resume ${job.id}) to continue from its finished parts`
  return new AppError('CANCELLED', `Benchmark job ${job.id} ${job.state} after ${job.done} of ${job.total} steps; ${how}`, { jobId: job.id, state: job.state })
}

export function benchmarkServices(ctx: ServiceContext): AreaServices<typeof benchmarkMethods> {
  // The step each run of this app is at, so a screen opened mid-run sees it; ids are the app job list's.
  const steps = new Map<number, Step | null>()
  // Benchmarks run through the jobs' one state machine; a benchmark's work is runBenchmarkJob on the engine.
  const runner = new JobRunner<JobStore, BenchmarkJobOutcome>({
    tasks: ctx.tasks,
    name: (jobId) => `Benchmark job ${jobId}`,
    taskLabel: (jobId) => `benchmark #${jobId}`,
    logFailure: (jobId, message) => ctx.events.log('error', `Benchmark job ${jobId} failed: ${message}`),
    // Queued until the engine is up (its first start takes seconds): a resumed job no longer reads as paused.
    leased: (store, jobId, lease) => lease.write(() => store.jobs.setState(jobId, 'queued')),
    work: async (store, jobId, { lease, signal, task }) => {
      steps.set(jobId, null)
      try {
        const pool = await ctx.engine().catch((err: unknown) => {
          // The run never started: the job says why, and resumes once the engine does.
          lease.release('failed', err instanceof Error ? err.message : String(err))
          throw err
        })
        return await runBenchmarkJob(store, jobId, pool, {
          lease,
          signal,
          onProgress: (p) => {
            steps.set(jobId, p.step ?? null)
            ctx.events.emit('job:progress', p)
            task.progress(p.done, p.total, p.step?.label, jobId)
          },
          log: (line) => ctx.events.log('info', `benchmark #${jobId}: ${line}`)
        })
      } finally {
        steps.delete(jobId)
      }
    }
  })

  const view = async (store: JobStore, job: JobSummary): Promise<BenchmarkJob> => {
    const shown = jobView(store, job)
    const params = BenchmarkJobParamsSchema.parse(store.jobs.params(job.id))
    return {
      ...shown,
      scope: 'app',
      subject: benchmarkJobSubject(store, job.id),
      params,
      running: runner.isRunning(store, job.id),
      step: steps.get(job.id) ?? null,
      result: shown.state === 'done' ? await readBenchmarkResult(params) : null
    }
  }

  const requireJob = (store: JobStore, jobId: number): JobSummary => {
    benchmarkJobParams(store, jobId) // a benchmark job, whose config still parses
    return getJob(store, jobId)!
  }

  /** Benchmark jobs writing into this run folder (newest first), with their stored config. */
  const jobsInFolder = (store: JobStore, runDir: string): { job: JobSummary; config: unknown }[] =>
    store.jobs
      .list()
      .filter((j) => j.kind === BENCHMARK_JOB_KIND)
      .flatMap((j) => {
        const p = BenchmarkJobParamsSchema.safeParse(store.jobs.params(j.id))
        return p.success && p.data.runDir === runDir ? [{ job: jobView(store, j), config: p.data.config }] : []
      })

  /** Two runs in one folder would write the same unit files: the second is refused, naming the first. */
  const refuseBusyFolder = (store: JobStore, runDir: string, except: number | null): void => {
    const busy = jobsInFolder(store, runDir).find(({ job }) => job.id !== except && (runner.isRunning(store, job.id) || job.state === 'running'))
    if (busy) {
      throw new AppError(
        'JOB_RUNNING',
        `Benchmark job ${busy.job.id} is running in the same run folder ${runDir}${runner.isRunning(store, busy.job.id) ? '' : ' in another process'}; wait for it, or pause or cancel it in Jobs`,
        { jobId: busy.job.id, runDir }
      )
    }
  }

  /**
   * The job that runs this input: one running in this app with the same config is joined; a paused, interrupted or
   * failed one with the same config is resumed (its phases done stay done); otherwise a new job.
   */
  const start = async (input: ParsedInput<'benchmark:start'>): Promise<{ jobId: number; finished: Promise<BenchmarkJobOutcome> }> => {
    const parsed = input.preset
      ? presetConfig(input.preset)
      : input.configFile
        ? await readBenchmarkConfig(resolve(input.configFile))
        : parseBenchmarkConfig(input.config)
    const job = {
      config: withSanityCheck(parsed, input.sanityCheck),
      preset: input.preset ?? null,
      configFile: input.configFile ? resolve(input.configFile) : null,
      outRoot: resolve(input.outDir ?? join(appHome(), 'benchmark'))
    }
    const { runDir } = benchmarkJobParamsFor(job)
    const store = ctx.appJobs()
    const same = jobsInFolder(store, runDir).filter((j) => sameBenchmarkConfig(j.config, job.config))
    const joined = same.find(({ job: j }) => runner.isRunning(store, j.id))
    if (joined) return { jobId: joined.job.id, finished: runner.running(store, joined.job.id)! }
    const resumable = same.find(({ job: j }) => JobRunner.isResumable(j.state))
    refuseBusyFolder(store, runDir, null)
    const jobId = resumable?.job.id ?? createBenchmarkJob(store, job).id
    return { jobId, finished: runner.launch(store, jobId) }
  }

  const stop = async (jobId: number, reason: StopReason): Promise<BenchmarkJob> => {
    const store = ctx.appJobs()
    const job = requireJob(store, jobId)
    await runner.stop(store, job, reason)
    return view(store, getJob(store, jobId)!)
  }

  return {
    'benchmark:presets': async () => listPresets(),

    'benchmark:summary': async ({ runDir }) => {
      const result = await readBenchmarkResult({ runDir: resolve(runDir) })
      if (!result) throw new AppError('NOT_FOUND', `No benchmark results in ${runDir} (results.json is missing or not a finished run's)`, { runDir })
      return { text: summaryText(result), sanity: result.sanity ? sanitySummaryLine(result.sanity) : null }
    },

    'benchmark:run': async (input) => {
      const { finished } = await start(input)
      const outcome = await finished
      if (!outcome.result) throw stoppedError(outcome.job)
      return outcome.result
    },

    'benchmark:start': async (input) => {
      const { jobId, finished } = await start(input)
      runner.background(finished, jobId)
      const store = ctx.appJobs()
      return view(store, getJob(store, jobId)!)
    },

    'benchmark:resume': async ({ jobId, wait }) => {
      const store = ctx.appJobs()
      const job = requireJob(store, jobId)
      const run = runner.resume(store, job, () => refuseBusyFolder(store, benchmarkJobParams(store, jobId).runDir, jobId))
      if (run && wait) await run.finished
      else if (run) runner.background(run.finished, jobId)
      return view(store, getJob(store, jobId)!)
    },

    'benchmark:pause': ({ jobId }) => stop(jobId, 'pause'),
    'benchmark:cancel': ({ jobId }) => stop(jobId, 'cancel'),

    'benchmark:job': async ({ jobId }) => {
      const store = ctx.appJobs()
      return view(store, requireJob(store, jobId))
    },

    'benchmark:latest': async () => {
      const store = ctx.existingAppJobs()
      if (!store) return { job: null, finished: null }
      const jobs = store.jobs.list().filter((j) => j.kind === BENCHMARK_JOB_KIND)
      const job = jobs[0] ? await view(store, jobs[0]) : null
      let finished: BenchmarkJob | null = job?.result ? job : null
      // The newest run whose results are still on disk: a run folder deleted by hand is passed over.
      for (const j of jobs) {
        if (finished) break
        if (j.state !== 'done') continue
        const v = await view(store, j)
        if (v.result) finished = v
      }
      return { job, finished }
    }
  }
}
