import { spawnSync } from 'node:child_process'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { isAppError } from '@common/errors'
import { HEARTBEAT_MS, JobLease, STALE_MS } from '@main/jobs/lease'
import { getJob, listJobs } from '@main/jobs/status'
import { Project } from '@main/store/project'
import { tempDir } from '../helpers/tempdir'

/**
 * Job leases on a real project file, opened twice as two processes would (the pid check against a real second
 * process is in test/audit/jobs.test.ts): one owner at a time, takeover once the heartbeat is stale, and the
 * state every adapter shows derived from it.
 */
const dir = tempDir()
afterAll(() => dir.cleanup())

let n = 0
/** A project with one queued job of three items, and a second handle on the same file. */
function twoHandles(): { a: Project; b: Project; jobId: number; close: () => void } {
  const path = dir.file(`lease${n++}.ctxlens`)
  const a = Project.create(path)
  const jobId = a.jobs.create('audit', {}, ['x', 'y', 'z']).id
  const b = Project.open(path)
  return { a, b, jobId, close: () => (a.close(), b.close()) }
}

function refusal(fn: () => unknown): { code: string; message: string; details: unknown } {
  try {
    fn()
  } catch (err) {
    if (isAppError(err)) return { code: err.code, message: err.message, details: err.details }
    throw err
  }
  throw new Error('was not refused')
}

/** A process id that surely belonged to a process here and no longer does. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', ''])
  expect(r.status).toBe(0)
  return r.pid
}

describe('job leases', () => {
  it('refuses a second owner with JOB_RUNNING naming the job, the owner and its last heartbeat; the first keeps writing', () => {
    const { a, b, jobId, close } = twoHandles()
    try {
      const first = JobLease.acquire(a, jobId)
      first.write(() => a.jobs.setState(jobId, 'running'))
      const r = refusal(() => JobLease.acquire(b, jobId))
      expect(r.code).toBe('JOB_RUNNING')
      expect(r.message).toMatch(new RegExp(`^Job ${jobId} \\(audit\\) is running in this process \\(last heartbeat \\d+ s ago\\)`))
      expect(r.details).toMatchObject({ jobId, pid: process.pid })
      // As another process sees it: still running, and the owner still stores its items.
      expect(getJob(b, jobId)!.state).toBe('running')
      first.write(() => a.jobs.completeItem(jobId, 'x', () => undefined))
      expect(b.jobs.get(jobId)!.done).toBe(1)
      expect(first.release('paused')).toBe(true)
      // Released: the job is free for anyone.
      const second = JobLease.acquire(b, jobId)
      expect(second.release()).toBe(true)
    } finally {
      close()
    }
  })

  it('lets another owner take a job over once its heartbeat is stale; the old owner then writes nothing', () => {
    const { a, b, jobId, close } = twoHandles()
    try {
      const old = JobLease.acquire(a, jobId)
      old.write(() => a.jobs.setState(jobId, 'running'))
      // Just inside the limit the owner still counts as alive...
      expect(refusal(() => JobLease.acquire(b, jobId, { now: () => Date.now() + STALE_MS - 2_000, pid: 4242 })).code).toBe('JOB_RUNNING')
      // ...past it (the owner froze: its process lives, its heartbeat stopped) the job reads interrupted and is taken.
      const later = () => Date.now() + STALE_MS + 1_000
      expect(listJobs(b).map((j) => j.state)).toEqual(['running'])
      const taker = JobLease.acquire(b, jobId, { now: later, pid: 4242, host: 'other-host' })
      expect(b.jobs.lease(jobId)).toMatchObject({ pid: 4242, host: 'other-host', token: taker.owner.token })

      // The old owner wakes up: its next write is refused and changes nothing, and it cannot set the final state.
      const lost = refusal(() => old.write(() => a.jobs.completeItem(jobId, 'y', () => undefined)))
      expect(lost.code).toBe('JOB_RUNNING')
      expect(lost.message).toContain(`Job ${jobId} was taken over by process 4242 on other-host`)
      expect(a.jobs.pendingItems(jobId)).toEqual(['x', 'y', 'z'])
      expect(old.release('done')).toBe(false)
      expect(a.jobs.get(jobId)!.state).toBe('running')
      expect(taker.release('paused')).toBe(true)
      expect(a.jobs.get(jobId)!.state).toBe('paused')
    } finally {
      close()
    }
  })

  it('treats a lease whose process no longer exists on this host as stale at once, but not one from another host', () => {
    const { a, b, jobId, close } = twoHandles()
    try {
      const pid = deadPid()
      JobLease.acquire(a, jobId, { pid }).write(() => a.jobs.setState(jobId, 'running'))
      // Its heartbeat is fresh, its process is gone: interrupted, and resumable without waiting.
      expect(getJob(b, jobId)!.state).toBe('interrupted')
      expect(listJobs(b, 'interrupted').map((j) => j.id)).toEqual([jobId])
      expect(listJobs(b, 'running')).toEqual([])
      const taker = JobLease.acquire(b, jobId)
      expect(getJob(a, jobId)!.state).toBe('running')
      taker.release()

      // The same pid on another machine (a project on a shared drive) says nothing here: only time counts.
      JobLease.acquire(a, jobId, { pid, host: 'elsewhere' }).write(() => undefined)
      expect(getJob(b, jobId)!.state).toBe('running')
      expect(refusal(() => JobLease.acquire(b, jobId)).message).toContain(`process ${pid} on elsewhere`)
    } finally {
      close()
    }
  })

  it('lets exactly one of two owners that both found the lease stale take it', () => {
    const { a, b, jobId, close } = twoHandles()
    try {
      const pid = deadPid()
      JobLease.acquire(a, jobId, { pid })
      const seen = b.jobs.lease(jobId)!
      const now = Date.now()
      // Both judged the same dead lease; the compare-and-set in the UPDATE lets only the first replace it.
      expect(b.jobs.acquireLease(jobId, { pid: 1, host: 'h', token: 't1' }, now, now - STALE_MS, seen.token)).toBe(true)
      expect(a.jobs.acquireLease(jobId, { pid: 2, host: 'h', token: 't2' }, now, now - STALE_MS, seen.token)).toBe(false)
      expect(a.jobs.lease(jobId)!.token).toBe('t1')
    } finally {
      close()
    }
  })

  it('pauses a job still held when its project closes, so reopening finds it resumable at once', () => {
    const path = dir.file('closing.ctxlens')
    const project = Project.create(path)
    const jobId = project.jobs.create('audit', {}, ['x']).id
    const lease = JobLease.acquire(project, jobId)
    lease.write(() => project.jobs.setState(jobId, 'running'))
    project.close()
    expect(lease.isHeld).toBe(false)
    const reopened = Project.open(path)
    try {
      expect(getJob(reopened, jobId)!.state).toBe('paused')
      expect(reopened.jobs.lease(jobId)).toBeNull()
    } finally {
      reopened.close()
    }
  })

  it('beats every HEARTBEAT_MS while held and reports a takeover found by a beat, once', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const { a, b, jobId, close } = twoHandles()
    try {
      let clock = 1_000_000
      const lease = JobLease.acquire(a, jobId, { now: () => clock })
      let lost = 0
      lease.startHeartbeat(() => lost++)
      clock += HEARTBEAT_MS
      vi.advanceTimersByTime(HEARTBEAT_MS)
      expect(a.jobs.lease(jobId)!.heartbeatAt).toBe(clock)
      // Taken over while this owner was frozen: the next beat finds out.
      JobLease.acquire(b, jobId, { now: () => clock + STALE_MS + 1, pid: 4242 })
      vi.advanceTimersByTime(3 * HEARTBEAT_MS)
      expect(lost).toBe(1)
      expect(lease.isHeld).toBe(false)
      expect(a.jobs.lease(jobId)!.pid).toBe(4242)
    } finally {
      close()
      vi.useRealTimers()
    }
  })
})
