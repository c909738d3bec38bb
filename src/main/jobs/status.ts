import type { JobState, JobSummary } from '@common/types'
import { isLeaseLive, type JobHost } from './lease'

/**
 * Jobs as every adapter shows them: a row stored as running whose owner no longer beats (killed, crashed, or
 * from before leases existed) reads as interrupted, which can be resumed.
 */
export function jobView(project: JobHost, job: JobSummary, now = Date.now()): JobSummary {
  if (job.state !== 'running' || isLeaseLive(project.jobs.lease(job.id), now)) return job
  return { ...job, state: 'interrupted' }
}

export function getJob(project: JobHost, jobId: number): JobSummary | null {
  const job = project.jobs.get(jobId)
  return job ? jobView(project, job) : null
}

/** Newest first; `state` filters on the state as shown, so 'running' leaves the interrupted ones out. */
export function listJobs(project: JobHost, state?: JobState): JobSummary[] {
  const stored = state === 'interrupted' || state === 'running' ? project.jobs.list('running') : project.jobs.list(state)
  const now = Date.now()
  const jobs = stored.map((j) => jobView(project, j, now))
  return state ? jobs.filter((j) => j.state === state) : jobs
}
