import { resolve } from 'node:path'
import { AppError } from '@common/errors'
import type { JobSummary } from '@common/types'
import { JobLease, stopIdleJob, type JobHost, type StopReason } from './lease'
import type { TaskHandle, TaskRegistry } from './tasks'

/** A job store with a file: runs are told apart by it, since job ids restart in every project. */
export type RunnableJobHost = JobHost & { readonly path: string }

/** What a job kind's work gets from the runner. */
export interface JobRunContext {
  /** Taken before the run started, so a job another process runs was refused as the caller's reply. */
  lease: JobLease
  /** Aborted with 'pause' or 'cancel' (StopReason); a stop from outside (tasks:cancel, shutdown) pauses. */
  signal: AbortSignal
  /** The run's task: its progress reaches every adapter's bar. */
  task: TaskHandle
}

export interface JobRunnerOptions<H extends RunnableJobHost, R> {
  tasks: TaskRegistry
  /** How messages name a job of this kind: `Job 3`, `Benchmark job 3`. */
  name: (jobId: number) => string
  /** The label of its task: `audit #3`. */
  taskLabel: (jobId: number) => string
  /** Where the failure of a run nobody awaits is reported. */
  logFailure: (jobId: number, message: string) => void
  /** Called with the lease just taken, before the task starts; what it throws is the caller's reply. */
  leased?: (host: H, jobId: number, lease: JobLease) => void
  /** The kind's work on its job; it ends the lease with the job's final state. */
  work: (host: H, jobId: number, run: JobRunContext) => Promise<R>
}

interface ActiveRun<R> {
  controller: AbortController
  finished: Promise<R>
}

const RESUMABLE = new Set<JobSummary['state']>(['queued', 'paused', 'failed', 'interrupted'])

/**
 * The job state machine every job kind shares: start, resume, pause and cancel. A run is a task (so the CLI's bar
 * and Ctrl-C, tasks:cancel and shutdown reach it) under the job's lease; the runs of this app are kept here so
 * pause and cancel reach them, while the stored state (jobs/status.ts) is the truth across processes.
 */
export class JobRunner<H extends RunnableJobHost, R> {
  private readonly runs = new Map<string, ActiveRun<R>>()

  constructor(private readonly options: JobRunnerOptions<H, R>) {}

  private key(host: H, jobId: number): string {
    return `${resolve(host.path)}#${jobId}`
  }

  isRunning(host: H, jobId: number): boolean {
    return this.runs.has(this.key(host, jobId))
  }

  /** The outcome of the run of this job in this app, or null when it runs nowhere here. */
  running(host: H, jobId: number): Promise<R> | null {
    return this.runs.get(this.key(host, jobId))?.finished ?? null
  }

  /**
   * Runs a job. Its lease is taken first, so a job another process runs is refused (JOB_RUNNING) as this call's
   * reply rather than in the background. Stopping the task from outside pauses the job: it stays resumable.
   */
  launch(host: H, jobId: number): Promise<R> {
    const key = this.key(host, jobId)
    if (this.runs.has(key)) throw new AppError('JOB_STATE', `${this.options.name(jobId)} is already running`, { jobId })
    const lease = JobLease.acquire(host, jobId)
    try {
      this.options.leased?.(host, jobId, lease)
    } catch (err) {
      lease.release()
      throw err
    }
    const controller = new AbortController()
    const finished = this.options.tasks
      .run(this.options.taskLabel(jobId), async (task) => {
        const onTaskAbort = (): void => controller.abort('pause' satisfies StopReason)
        task.signal.addEventListener('abort', onTaskAbort, { once: true })
        try {
          return await this.options.work(host, jobId, { lease, signal: controller.signal, task })
        } finally {
          task.signal.removeEventListener('abort', onTaskAbort)
          // Only when the run never started (no engine): the job stays as it was, free for the next try.
          lease.release()
        }
      })
      .finally(() => this.runs.delete(key))
    this.runs.set(key, { controller, finished })
    return finished
  }

  /** A run nobody awaits: its failure is logged instead of left unhandled. */
  background(finished: Promise<unknown>, jobId: number): void {
    finished.catch((err: unknown) => this.options.logFailure(jobId, err instanceof Error ? err.message : String(err)))
  }

  /**
   * Resumes a job: joins its run in this app, or launches it when its state allows (queued, paused, interrupted,
   * failed; 'running' here is another live process's run, which the lease refuses with JOB_RUNNING, naming it).
   * Null for a job that is done. `beforeLaunch` runs only when a run is about to start (a kind's own refusals).
   */
  resume(host: H, job: JobSummary, beforeLaunch?: () => void): { finished: Promise<R>; launched: boolean } | null {
    const joined = this.running(host, job.id)
    if (joined) return { finished: joined, launched: false }
    if (job.state === 'done') return null
    if (job.state !== 'running' && !RESUMABLE.has(job.state)) {
      throw new AppError('JOB_STATE', `${this.options.name(job.id)} is ${job.state}; only queued, paused, interrupted or failed jobs can be resumed`, {
        jobId: job.id,
        state: job.state
      })
    }
    beforeLaunch?.()
    return { finished: this.launch(host, job.id), launched: true }
  }

  /** Pauses or cancels a job: its run here stops and is awaited; one no process of this app runs is stopped through its lease. */
  async stop(host: H, job: JobSummary, reason: StopReason): Promise<void> {
    const run = this.runs.get(this.key(host, job.id))
    if (run) {
      run.controller.abort(reason)
      await run.finished.catch(() => undefined)
      return
    }
    stopIdleJob(host, job, reason)
  }

  /** Whether a job in this state may be resumed (a new run of the same work joins or resumes it). */
  static isResumable(state: JobSummary['state']): boolean {
    return RESUMABLE.has(state)
  }
}
