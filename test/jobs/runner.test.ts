import { afterAll, describe, expect, it } from 'vitest'
import { isAppError } from '@common/errors'
import { leasedRun } from '@main/jobs/leasedRun'
import { JobLease } from '@main/jobs/lease'
import { JobRunner, type JobRunContext } from '@main/jobs/runner'
import { getJob } from '@main/jobs/status'
import { TaskRegistry } from '@main/jobs/tasks'
import { EventBus } from '@main/services/events'
import { JobStore } from '@main/store/jobStore'
import type { JobSummary } from '@common/types'
import { tempDir } from '../helpers/tempdir'

/**
 * The one job state machine on a real job file, with a job kind of its own (items completed one by one under
 * the lease, as audits and benchmark phases are): what audits and benchmarks share is checked once, apart from
 * their work. Their own service tests (test/audit/jobs.test.ts, test/benchmark/jobs.test.ts) run it with theirs.
 */
const dir = tempDir()
afterAll(() => dir.cleanup())

let n = 0
function setup(items = 6): { store: JobStore; runner: JobRunner<JobStore, JobSummary>; tasks: TaskRegistry; jobId: number; firstItem: Promise<void>; logged: string[] } {
  const store = JobStore.open(dir.file(`runner${n++}.sqlite`))
  const tasks = new TaskRegistry(new EventBus())
  const logged: string[] = []
  let firstDone: () => void = () => undefined
  const firstItem = new Promise<void>((resolve) => (firstDone = resolve))
  const work = (host: JobStore, jobId: number, { lease, signal }: JobRunContext): Promise<JobSummary> =>
    leasedRun(host, jobId, lease, { signal }, async (run) => {
      for (const key of host.jobs.pendingItems(jobId)) {
        await new Promise((r) => setTimeout(r, 25))
        if (run.signal.aborted) break
        lease.write(() => host.jobs.completeItem(jobId, key, () => undefined))
        firstDone()
      }
      const left = host.jobs.pendingItems(jobId).length
      lease.release(left === 0 ? 'done' : run.stopReason() === 'cancel' ? 'cancelled' : 'paused')
      return host.jobs.get(jobId)!
    })
  const runner = new JobRunner<JobStore, JobSummary>({
    tasks,
    name: (jobId) => `Test job ${jobId}`,
    taskLabel: (jobId) => `test #${jobId}`,
    logFailure: (jobId, message) => logged.push(`${jobId}: ${message}`),
    work
  })
  const jobId = store.jobs.create('test', {}, Array.from({ length: items }, (_, i) => `item:${i}`)).id
  return { store, runner, tasks, jobId, firstItem, logged }
}

function refusal(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (isAppError(err)) return `${err.code}: ${err.message}`
    throw err
  }
  throw new Error('was not refused')
}

describe('the job runner', () => {
  it('pauses a job whose task is stopped from outside, resumes it to the end, and has nothing to resume once it is done', async () => {
    const { store, runner, tasks, jobId, firstItem } = setup()
    try {
      const finished = runner.launch(store, jobId)
      expect(runner.isRunning(store, jobId)).toBe(true)
      await firstItem
      const task = tasks.list().find((t) => t.label === `test #${jobId}`)!
      expect(tasks.cancel(task.taskId)).toBe(true)
      const paused = await finished
      expect(paused.state).toBe('paused')
      expect(paused.done).toBeGreaterThanOrEqual(1)
      expect(paused.done).toBeLessThan(paused.total)
      expect(runner.isRunning(store, jobId)).toBe(false)

      const resumed = runner.resume(store, getJob(store, jobId)!)
      expect(resumed?.launched).toBe(true)
      // A second resume while it runs joins the same run.
      const joined = runner.resume(store, getJob(store, jobId)!)
      expect(joined?.launched).toBe(false)
      expect(joined?.finished).toBe(resumed?.finished)
      const done = await resumed!.finished
      expect(done).toMatchObject({ state: 'done', done: 6, failed: 0 })
      expect(runner.resume(store, getJob(store, jobId)!)).toBeNull()
    } finally {
      store.close()
    }
  })

  it('refuses a second run of a running job, cancels it for good, and refuses to resume a cancelled job', async () => {
    const { store, runner, jobId, firstItem } = setup()
    try {
      const finished = runner.launch(store, jobId)
      expect(refusal(() => runner.launch(store, jobId))).toBe(`JOB_STATE: Test job ${jobId} is already running`)
      await firstItem
      await runner.stop(store, getJob(store, jobId)!, 'cancel')
      expect((await finished).state).toBe('cancelled')
      expect(refusal(() => runner.resume(store, getJob(store, jobId)!))).toBe(
        `JOB_STATE: Test job ${jobId} is cancelled; only queued, paused, interrupted or failed jobs can be resumed`
      )
    } finally {
      store.close()
    }
  })

  it('refuses a job another owner holds as the launch\'s own reply, and stops an idle job through its lease', async () => {
    const { store, runner, jobId, logged } = setup()
    try {
      const other = JobLease.acquire(store, jobId)
      other.write(() => store.jobs.setState(jobId, 'running'))
      expect(refusal(() => runner.launch(store, jobId))).toMatch(new RegExp(`^JOB_RUNNING: Job ${jobId} \\(test\\) is running in this process`))
      expect(runner.isRunning(store, jobId)).toBe(false)
      other.release('paused')
      // Not run by this app: cancelled through its lease, which is free now.
      await runner.stop(store, getJob(store, jobId)!, 'cancel')
      expect(getJob(store, jobId)!.state).toBe('cancelled')
      runner.background(Promise.reject(new Error('no engine')), jobId)
      await new Promise((r) => setTimeout(r, 0))
      expect(logged).toEqual([`${jobId}: no engine`])
    } finally {
      store.close()
    }
  })
})
