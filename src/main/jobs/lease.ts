import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { AppError } from '@common/errors'
import type { JobSummary, StoredJobState } from '@common/types'
import type { JobLeaseRecord, JobRepo } from '../store/repositories/jobs'

/**
 * Where a job is stored: a project file (audits), or the app's own job list (src/main/store/jobStore.ts, the
 * benchmark's runs, which need no project). Both hold the same job tables.
 */
export interface JobHost {
  readonly jobs: JobRepo
  readonly isOpen: boolean
  beforeClose(fn: () => void): () => void
}

/**
 * A job's lease: the process that runs it writes its pid, host and a random token into the job row and beats
 * every HEARTBEAT_MS. Another process may take the job only once the lease is free or stale, so `audit --resume`
 * in a second process is refused while the first still runs it, and a job whose process died can be resumed.
 */
export const HEARTBEAT_MS = 5_000
/** Six missed beats: long enough for a busy main thread or a slow disk, short enough that a dead job is seen soon. */
export const STALE_MS = 30_000

export interface LeaseOptions {
  /** Tests: a clock to age a heartbeat without waiting for it. */
  now?: () => number
  /** Tests: another owner identity, as a second process would have. */
  pid?: number
  host?: string
}

/** Whether a process with this id exists here; EPERM means it exists but belongs to another user. */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * A lease still held: beaten within STALE_MS and, when its owner is on this machine, by a process that exists. A
 * killed process is thereby stale at once here; on another host (a project on a shared drive) only time tells.
 */
export function isLeaseLive(lease: JobLeaseRecord | null, now = Date.now()): boolean {
  if (!lease) return false
  if (now - lease.heartbeatAt > STALE_MS) return false
  return lease.host !== hostname() || processExists(lease.pid)
}

function describeOwner(lease: JobLeaseRecord, now: number): string {
  const where = lease.host === hostname() ? (lease.pid === process.pid ? 'this process' : `process ${lease.pid}`) : `process ${lease.pid} on ${lease.host}`
  const ago = Math.max(0, Math.round((now - lease.heartbeatAt) / 1000))
  return `${where} (last heartbeat ${ago} s ago)`
}

export function jobRunningError(project: JobHost, jobId: number, lease: JobLeaseRecord, now: number): AppError {
  const kind = project.jobs.get(jobId)?.kind ?? 'job'
  return new AppError(
    'JOB_RUNNING',
    `Job ${jobId} (${kind}) is running in ${describeOwner(lease, now)}; pause it there, or resume it once that process has ended`,
    { jobId, pid: lease.pid, host: lease.host, heartbeatAgeMs: now - lease.heartbeatAt }
  )
}

/** The job as this process holds it. Every write the runner makes goes through `write`, which checks the lease. */
export class JobLease {
  private timer: NodeJS.Timeout | null = null
  private held = true
  private readonly forgetClose: () => void

  private constructor(
    private readonly project: JobHost,
    readonly jobId: number,
    readonly owner: Omit<JobLeaseRecord, 'heartbeatAt'>,
    private readonly now: () => number
  ) {
    // The app closing the project under a running job stops that run: the job is paused, not left to go stale.
    this.forgetClose = project.beforeClose(() => this.release('paused'))
  }

  /**
   * Takes the job, or throws JOB_RUNNING naming the process that holds it. The check and the take are one UPDATE
   * (JobRepo.acquireLease), so of two processes racing for a free or stale job exactly one wins.
   */
  static acquire(project: JobHost, jobId: number, options: LeaseOptions = {}): JobLease {
    const now = options.now ?? Date.now
    const t = now()
    if (!project.jobs.get(jobId)) throw new AppError('JOB_NOT_FOUND', `No job ${jobId}`, { jobId })
    const current = project.jobs.lease(jobId)
    if (current && isLeaseLive(current, t)) throw jobRunningError(project, jobId, current, t)
    const pid = options.pid ?? process.pid
    const owner = { pid, host: options.host ?? hostname(), token: `${pid}-${randomBytes(8).toString('hex')}` }
    // `current` was judged dead here (maybe by its pid, which SQL cannot see): replace exactly that lease, no other.
    if (!project.jobs.acquireLease(jobId, owner, t, t - STALE_MS, current?.token ?? null)) {
      const winner = project.jobs.lease(jobId)
      throw winner ? jobRunningError(project, jobId, winner, t) : new AppError('JOB_NOT_FOUND', `No job ${jobId}`, { jobId })
    }
    return new JobLease(project, jobId, owner, now)
  }

  get isHeld(): boolean {
    return this.held
  }

  /**
   * Runs `fn` in one transaction with a heartbeat, only while the lease is still this process's; throws JOB_RUNNING
   * (and nothing is written) once another process took the job over.
   */
  write(fn: () => void): void {
    if (this.held && this.project.jobs.whileHolding(this.jobId, this.owner.token, this.now(), fn)) return
    const err = this.lostError()
    this.held = false
    this.stopHeartbeat()
    this.forgetClose()
    throw err
  }

  lostError(): AppError {
    const now = this.now()
    const other = this.project.jobs.lease(this.jobId)
    const by = other ? describeOwner(other, now) : 'another process'
    return new AppError('JOB_RUNNING', `Job ${this.jobId} was taken over by ${by} while this process ran it; what this process finished is stored`, {
      jobId: this.jobId
    })
  }

  /** Beats every HEARTBEAT_MS until released; `onLost` is called once if a beat finds the job taken over. */
  startHeartbeat(onLost: () => void): void {
    if (this.timer || !this.held) return
    this.timer = setInterval(() => {
      // The app switched projects under a background job: the run stops on its own; nothing to beat.
      if (!this.project.isOpen) return this.stopHeartbeat()
      let kept: boolean
      try {
        kept = this.project.jobs.beat(this.jobId, this.owner.token, this.now())
      } catch {
        return // busy past the timeout: the next beat tries again, well before the lease goes stale
      }
      if (!kept) {
        this.held = false
        this.stopHeartbeat()
        this.forgetClose()
        onLost()
      }
    }, HEARTBEAT_MS)
    // A heartbeat alone must not keep a finished CLI process alive.
    this.timer.unref()
  }

  private stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /**
   * Gives the job up, setting its final state in the same statement (so it never reads as interrupted between
   * the two). Returns false when the job had been taken over; then nothing is written.
   */
  release(state?: StoredJobState, error: string | null = null): boolean {
    this.stopHeartbeat()
    this.forgetClose()
    if (!this.held) return false
    this.held = false
    if (!this.project.isOpen) return false
    return this.project.jobs.releaseLease(this.jobId, this.owner.token, state, error)
  }
}

/** Why a running job is stopped: 'pause' leaves it resumable, 'cancel' ends it. */
export type StopReason = 'pause' | 'cancel'

/**
 * Stops a job that no process of this app runs: through its lease, so one another process runs is refused
 * (JOB_RUNNING, stop it there), and an interrupted one is taken over first, so its owner, were it only frozen,
 * cannot write after this. A finished job is left as it is; a failed one keeps its error when paused.
 */
export function stopIdleJob(host: JobHost, job: JobSummary, reason: StopReason): void {
  if (job.state === 'done' || job.state === 'cancelled') return
  const lease = JobLease.acquire(host, job.id)
  lease.release(reason === 'cancel' ? 'cancelled' : job.state === 'failed' ? 'failed' : 'paused', job.state === 'failed' ? job.error : null)
}
