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
import { JobLease, stopIdleJob, type StopReason } from '../jobs/lease'
import { getJob, jobView } from '../jobs/status'
import { appHome } from '../paths'
import type { JobStore } from '../store/jobStore'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'

type Step = NonNullable<BenchmarkJob['step']>

interface RunningBenchmark {
  controller: AbortController
  finished: Promise<BenchmarkJobOutcome>
  step: Step | null
}

const RESUMABLE = new Set(['queued', 'paused', 'failed', 'interrupted'])

/** What a stopped run's caller is told: which job, how far it got, and how to go on. */
function stoppedError(job: JobSummary): AppError {
  const how =
    job.state === 'cancelled'
      ? 'its finished parts stay in its run folder, and a new run of the same config starts from them'
      : `run the same config again (or ctxlens benchmark --resume ${job.id}) to continue from its finished parts`
  return new AppError('CANCELLED', `Benchmark job ${job.id} ${job.state} after ${job.done} of ${job.total} steps; ${how}`, { jobId: job.id, state: job.state })
}

export function benchmarkServices(ctx: ServiceContext): AreaServices<typeof benchmarkMethods> {
  // Benchmark jobs running in this app, so pause and cancel reach them and a screen opened mid-run sees the step.
  // Ids are the app job list's, one per home; the stored state is the truth across processes.
  const runs = new Map<number, RunningBenchmark>()

  const view = async (store: JobStore, job: JobSummary): Promise<BenchmarkJob> => {
    const shown = jobView(store, job)
    const params = BenchmarkJobParamsSchema.parse(store.jobs.params(job.id))
    const run = runs.get(job.id)
    return {
      ...shown,
      scope: 'app',
      subject: benchmarkJobSubject(store, job.id),
      params,
      running: run !== undefined,
      step: run?.step ?? null,
      result: shown.state === 'done' ? await readBenchmarkResult(params) : null
    }
  }

  const requireJob = (store: JobStore, jobId: number): JobSummary => {
    benchmarkJobParams(store, jobId) // a benchmark job, whose config still parses
    return getJob(store, jobId)!
  }

  /**
   * Runs a job as a task (so the CLI's Ctrl-C, tasks:cancel and shutdown reach it; stopped that way it pauses). The
   * lease is taken first, so a job another process runs is refused as this call's reply, not in the background.
   */
  const launch = (store: JobStore, jobId: number): Promise<BenchmarkJobOutcome> => {
    if (runs.has(jobId)) throw new AppError('JOB_STATE', `Benchmark job ${jobId} is already running`, { jobId })
    const lease = JobLease.acquire(store, jobId)
    // Queued until the engine is up (its first start takes seconds): a resumed job no longer reads as paused.
    lease.write(() => store.jobs.setState(jobId, 'queued'))
    const controller = new AbortController()
    const run = { controller, step: null as Step | null }
    const finished = ctx.tasks
      .run(`benchmark #${jobId}`, async (task) => {
        const onTaskAbort = (): void => controller.abort('pause' satisfies StopReason)
        task.signal.addEventListener('abort', onTaskAbort, { once: true })
        try {
          const pool = await ctx.engine().catch((err: unknown) => {
            // The run never started: the job says why, and resumes once the engine does.
            lease.release('failed', err instanceof Error ? err.message : String(err))
            throw err
          })
          return await runBenchmarkJob(store, jobId, pool, {
            lease,
            signal: controller.signal,
            onProgress: (p) => {
              run.step = p.step ?? null
              ctx.events.emit('job:progress', p)
              task.progress(p.done, p.total, p.step?.label, jobId)
            },
            log: (line) => ctx.events.log('info', `benchmark #${jobId}: ${line}`)
          })
        } finally {
          task.signal.removeEventListener('abort', onTaskAbort)
          lease.release()
        }
      })
      .finally(() => runs.delete(jobId))
    runs.set(jobId, Object.assign(run, { finished }))
    return finished
  }

  const background = (p: Promise<unknown>, jobId: number): void => {
    p.catch((err: unknown) => ctx.events.log('error', `Benchmark job ${jobId} failed: ${err instanceof Error ? err.message : String(err)}`))
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
    const busy = jobsInFolder(store, runDir).find(({ job }) => job.id !== except && (runs.has(job.id) || job.state === 'running'))
    if (busy) {
      throw new AppError(
        'JOB_RUNNING',
        `Benchmark job ${busy.job.id} is running in the same run folder ${runDir}${runs.has(busy.job.id) ? '' : ' in another process'}; wait for it, or pause or cancel it in Jobs`,
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
    const joined = same.find(({ job: j }) => runs.has(j.id))
    if (joined) return { jobId: joined.job.id, finished: runs.get(joined.job.id)!.finished }
    const resumable = same.find(({ job: j }) => RESUMABLE.has(j.state))
    refuseBusyFolder(store, runDir, null)
    const jobId = resumable?.job.id ?? createBenchmarkJob(store, job).id
    return { jobId, finished: launch(store, jobId) }
  }

  const stop = async (jobId: number, reason: StopReason): Promise<BenchmarkJob> => {
    const store = ctx.appJobs()
    const job = requireJob(store, jobId)
    const run = runs.get(jobId)
    if (run) {
      run.controller.abort(reason)
      await run.finished.catch(() => undefined)
    } else {
      stopIdleJob(store, job, reason)
    }
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
      background(finished, jobId)
      const store = ctx.appJobs()
      return view(store, getJob(store, jobId)!)
    },

    'benchmark:resume': async ({ jobId, wait }) => {
      const store = ctx.appJobs()
      const job = requireJob(store, jobId)
      const running = runs.get(jobId)
      let finished: Promise<BenchmarkJobOutcome> | null = running?.finished ?? null
      if (!finished && job.state !== 'done') {
        // 'running' here is another live process's run: launch's lease refuses it with JOB_RUNNING, naming it.
        if (job.state !== 'running' && !RESUMABLE.has(job.state)) {
          throw new AppError('JOB_STATE', `Benchmark job ${jobId} is ${job.state}; only queued, paused, interrupted or failed jobs can be resumed`, {
            jobId,
            state: job.state
          })
        }
        refuseBusyFolder(store, benchmarkJobParams(store, jobId).runDir, jobId)
        finished = launch(store, jobId)
      }
      if (finished && wait) await finished
      else if (finished) background(finished, jobId)
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
