import { AppError, isAppError } from '@common/errors'
import type { JobLease, JobHost, StopReason } from './lease'

/** What a job kind's work runs with while it holds the job. */
export interface LeasedRun {
  readonly lease: JobLease
  /** Fires on the caller's stop, on a take-over by another process, and on any `also` signal. */
  readonly signal: AbortSignal
  /** Fires once another process took the job over. */
  readonly lost: AbortSignal
  /** 'pause' or 'cancel' once the caller stopped the run (any other reason pauses), null while it was not stopped. */
  stopReason(): StopReason | null
  /** The error that ends a run another process took over (the JOB_RUNNING caught, or the lease's), else null. */
  takenOver(err: unknown): AppError | null
}

/**
 * Runs a job kind's work under the job's lease: the job is marked running and the lease beats. Another process
 * may take the job over once this one was frozen past the staleness limit; then `signal` fires so the work stops
 * computing at once, and every write fails through JobLease.write. The work ends the lease with the job's final
 * state; the release here only acts on an unexpected throw, which leaves the row running without an owner: it
 * reads as interrupted and resumes.
 */
export async function leasedRun<T>(
  host: JobHost,
  jobId: number,
  lease: JobLease,
  options: { signal?: AbortSignal; also?: AbortSignal[] },
  work: (run: LeasedRun) => Promise<T>
): Promise<T> {
  try {
    const stop = options.signal
    const lost = new AbortController()
    const signal = AbortSignal.any([...(stop ? [stop] : []), lost.signal, ...(options.also ?? [])])
    lease.write(() => host.jobs.setState(jobId, 'running'))
    lease.startHeartbeat(() => lost.abort())
    return await work({
      lease,
      signal,
      lost: lost.signal,
      stopReason: () => (stop?.aborted ? ((stop.reason as StopReason) === 'cancel' ? 'cancel' : 'pause') : null),
      takenOver: (err) => (isAppError(err, 'JOB_RUNNING') ? err : lost.signal.aborted ? lease.lostError() : null)
    })
  } finally {
    lease.release()
  }
}
