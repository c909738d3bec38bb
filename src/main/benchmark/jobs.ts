import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  BenchmarkJobParamsSchema,
  BenchmarkResultSchema,
  type BenchmarkConfig,
  type BenchmarkJobParams,
  type BenchmarkPreset,
  type BenchmarkResult
} from '@common/benchmark'
import type { EventPayload } from '@common/contract'
import { AppError, isAppError, toErrorShape } from '@common/errors'
import type { JobSubject } from '@common/methods/core'
import type { JobSummary } from '@common/types'
import type { EnginePool } from '../engine/pool/pool'
import { JobLease, type JobHost } from '../jobs/lease'
import { leasedRun, type LeasedRun } from '../jobs/leasedRun'
import { parseBenchmarkConfig, planModels } from './config'
import { benchmarkPhaseCount, runDirFor } from './plan'
import { runBenchmark } from './runner'

export const BENCHMARK_JOB_KIND = 'benchmark'

type JobProgress = EventPayload<'job:progress'>

/**
 * A benchmark job's items are the run's phases (train or find a model, evaluate it, explain a test set with one
 * method, ...), in the order the runner goes through them. A resumed job reruns its config from the first phase;
 * the phases finished before come from the run folder's cache in moments and were already marked done.
 */
const phaseKey = (index: number): string => `phase:${index}`

export interface NewBenchmarkJob {
  config: BenchmarkConfig
  preset: BenchmarkPreset | null
  configFile: string | null
  outRoot: string
}

export function benchmarkJobParamsFor(job: NewBenchmarkJob): BenchmarkJobParams {
  return { preset: job.preset, name: job.config.name, configFile: job.configFile, outRoot: job.outRoot, runDir: runDirFor(job.outRoot, job.config), config: job.config }
}

export function createBenchmarkJob(host: JobHost, job: NewBenchmarkJob): JobSummary {
  const phases = benchmarkPhaseCount(job.config)
  return host.jobs.create(BENCHMARK_JOB_KIND, benchmarkJobParamsFor(job), Array.from({ length: phases }, (_, i) => phaseKey(i + 1)))
}

/** The stored parameters of a benchmark job, its config parsed again (so a stored config that no longer parses says why). */
export function benchmarkJobParams(host: JobHost, jobId: number): BenchmarkJobParams & { config: BenchmarkConfig } {
  const job = host.jobs.get(jobId)
  if (!job) throw new AppError('JOB_NOT_FOUND', `No benchmark job ${jobId}`, { jobId })
  if (job.kind !== BENCHMARK_JOB_KIND) throw new AppError('JOB_STATE', `Job ${jobId} is a ${job.kind} job, not a benchmark`, { jobId })
  const stored = BenchmarkJobParamsSchema.safeParse(host.jobs.params(jobId))
  if (!stored.success) throw new AppError('INVALID_PARAMETERS', `Benchmark job ${jobId} has unreadable parameters`, { jobId })
  return { ...stored.data, config: parseBenchmarkConfig(stored.data.config, `the config of benchmark job ${jobId}`) }
}

/** Two configs run the same work exactly when they are equal as parsed (defaults filled in, so key order is the schema's). */
export function sameBenchmarkConfig(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/**
 * What the Jobs list says a benchmark works on: texture-MNIST, its models and methods, and the preset (or the
 * config's name). Never throws, since the list must show every job.
 */
export function benchmarkJobSubject(host: JobHost, jobId: number): JobSubject {
  let params: Partial<BenchmarkJobParams> = {}
  try {
    params = host.jobs.params<Partial<BenchmarkJobParams>>(jobId)
  } catch {
    // Listed undescribed.
  }
  let config: BenchmarkConfig | null = null
  try {
    config = parseBenchmarkConfig(params.config)
  } catch {
    // A config this version no longer reads: the job still lists, by name.
  }
  const models = config ? planModels(config).length : null
  return {
    dataset: 'texture-MNIST',
    model: models === null ? null : `${models} U-Net${models === 1 ? '' : 's'}`,
    classes: null,
    method: config ? config.saliency.methods.join(', ') : null,
    preset: params.preset ?? params.name ?? null
  }
}

/** The results.json a finished run wrote into its run folder; null when it is gone or not a result. */
export async function readBenchmarkResult(params: Pick<BenchmarkJobParams, 'runDir'>): Promise<BenchmarkResult | null> {
  try {
    const parsed = BenchmarkResultSchema.safeParse(JSON.parse(await readFile(join(params.runDir, 'results.json'), 'utf8')))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

export interface RunBenchmarkJobHooks {
  /** 'pause' leaves the job resumable, 'cancel' ends it; any other stop pauses it. */
  signal?: AbortSignal
  onProgress?: (p: JobProgress) => void
  log?: (line: string) => void
  /** The job's lease, when the caller took it (the service does, so a refusal is its reply); else taken here. */
  lease?: JobLease
  /** Tests: where committed models are looked up. */
  committedRoot?: string
}

export interface BenchmarkJobOutcome {
  job: JobSummary
  /** Null when the job was stopped before it finished. */
  result: BenchmarkResult | null
}

/**
 * Runs a benchmark job: its stored config through the runner, under the job's lease (a second process is refused
 * with JOB_RUNNING while this one beats), each finished phase marked done. Resolves when it is done, paused or
 * cancelled; a failure is stored with its message and rethrown.
 */
export async function runBenchmarkJob(host: JobHost, jobId: number, pool: EnginePool, hooks: RunBenchmarkJobHooks = {}): Promise<BenchmarkJobOutcome> {
  const params = benchmarkJobParams(host, jobId)
  const lease = hooks.lease ?? JobLease.acquire(host, jobId)
  // A progress callback must not throw into the runner (it is called from worker messages): it stops the run instead.
  const broken = new AbortController()
  return leasedRun(host, jobId, lease, { signal: hooks.signal, also: [broken.signal] }, (run) => runPhases(host, jobId, params, pool, run, broken, hooks))
}

/** The config's phases through the runner, each finished phase marked done; ends the lease with the final state. */
async function runPhases(
  host: JobHost,
  jobId: number,
  params: BenchmarkJobParams & { config: BenchmarkConfig },
  pool: EnginePool,
  run: LeasedRun,
  broken: AbortController,
  hooks: RunBenchmarkJobHooks
): Promise<BenchmarkJobOutcome> {
  const { lease } = run
  const signal = hooks.signal
  const closed = (): AppError => new AppError('CANCELLED', `The app's job list was closed while benchmark job ${jobId} ran`)
  let progressError: unknown = null
  const runSignal = run.signal

  let job = host.jobs.get(jobId)!
  let marked = 0
  const emit = (state: JobSummary['state'], step?: JobProgress['step']): void =>
    hooks.onProgress?.({
      jobId,
      scope: 'app',
      kind: BENCHMARK_JOB_KIND,
      state,
      done: job.done,
      failed: job.failed,
      total: job.total,
      // Phases last from a second (a cached unit) to an hour (a training): a rate over them would promise nothing.
      ratePerSecond: null,
      etaSeconds: null,
      ...(step ? { step } : {})
    })
  const markDoneThrough = (last: number): void => {
    if (last <= marked) return
    if (!host.isOpen) throw closed()
    lease.write(() => {
      for (let i = marked + 1; i <= Math.min(last, job.total); i++) host.jobs.completeItem(jobId, phaseKey(i), () => undefined)
    })
    marked = last
    job = host.jobs.get(jobId)!
  }
  emit('running')

  try {
    const result = await runBenchmark({
      pool,
      config: params.config,
      preset: params.preset,
      outRoot: params.outRoot,
      ...(hooks.committedRoot ? { committedRoot: hooks.committedRoot } : {}),
      signal: runSignal,
      log: hooks.log,
      onProgress: (p) => {
        if (broken.signal.aborted) return
        try {
          markDoneThrough(p.index - 1)
          emit('running', { label: p.phase, done: p.done, total: p.total })
        } catch (err) {
          progressError = err
          broken.abort()
        }
      }
    })
    if (progressError !== null) throw progressError
    markDoneThrough(job.total)
    if (!lease.release('done')) throw lease.lostError()
    job = host.jobs.get(jobId)!
    emit('done')
    return { job, result }
  } catch (caught) {
    const err = progressError ?? caught
    if (!host.isOpen) throw closed()
    // Taken over: the new owner's job now, so nothing more is written here.
    const takenOver = run.takenOver(err)
    if (takenOver) throw takenOver
    if (progressError === null && (signal?.aborted || isAppError(err, 'CANCELLED'))) {
      // A stop that did not come from pause or cancel (the engine shut down with the app) leaves the job resumable.
      const state = run.stopReason() === 'cancel' ? 'cancelled' : 'paused'
      if (!lease.release(state)) throw lease.lostError()
      job = host.jobs.get(jobId)!
      emit(state)
      return { job, result: null }
    }
    lease.release('failed', toErrorShape(err).message)
    job = host.jobs.get(jobId)!
    emit('failed')
    throw err
  }
}
