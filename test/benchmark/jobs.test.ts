import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BenchmarkConfigInput } from '@common/benchmark'
import type { EventPayload, Method, Output } from '@common/contract'
import { AppError } from '@common/errors'
import { BENCHMARK_JOB_KIND, benchmarkPhaseCount, createBenchmarkJob, parseBenchmarkConfig } from '@main/benchmark'
import { JobLease, STALE_MS } from '@main/jobs/lease'
import { appJobStorePath } from '@main/paths'
import { ServiceContext } from '@main/services/context'
import { createDispatch } from '@main/services/dispatch'
import { createServices } from '@main/services/index'
import { JobStore } from '@main/store/jobStore'
import { tempDir } from '../helpers/tempdir'

/** As runner.test.ts's tiny run, smaller still: two models of one epoch on 32 images, two methods, no sanity check. */
const tiny: BenchmarkConfigInput = {
  name: 'tiny-job',
  experiments: [{ bias: 'strong', biasedDigits: [2], textures: [3], seeds: [0] }],
  unbiased: true,
  data: { trainCount: 32, valCount: 8, evalCount: 20, explainPerDigit: 1, minRequestArea: 1 },
  model: { width: 0.125, levels: 2 },
  training: { source: 'train', epochs: 1, batchSize: 16 },
  saliency: { methods: ['context', 'vg'], context: { steps: 3 }, request: 'ground-truth' },
  sanityCheck: { enabled: false }
}

const dir = tempDir('ctxlens-bench-jobs-')
const previousHome = process.env.CTXLENS_HOME
const previousWorkers = process.env.CTXLENS_WORKERS
let ctx: ServiceContext
let call: <M extends Method>(method: M, input: unknown) => Promise<Output<M>>
const progress: EventPayload<'job:progress'>[] = []
const tasks: EventPayload<'task:progress'>[] = []

function session(): { ctx: ServiceContext; call: typeof call } {
  const c = new ServiceContext('cli', { backend: 'wasm' })
  const dispatch = createDispatch(createServices(c))
  return {
    ctx: c,
    call: async (method, input) => {
      const reply = await dispatch(method, input)
      if (!reply.ok) throw AppError.fromShape(reply.error)
      return reply.result as never
    }
  }
}

beforeAll(() => {
  // The app's job list lives in the home: a temporary one, so no real run is listed and none is left behind.
  process.env.CTXLENS_HOME = dir.file('home')
  process.env.CTXLENS_WORKERS = '1'
  ;({ ctx, call } = session())
  ctx.events.subscribe((e) => {
    if (e.event === 'job:progress') progress.push(e.payload)
    if (e.event === 'task:progress') tasks.push(e.payload)
  })
})
afterAll(() => {
  ctx?.dispose()
  if (previousHome === undefined) delete process.env.CTXLENS_HOME
  else process.env.CTXLENS_HOME = previousHome
  if (previousWorkers === undefined) delete process.env.CTXLENS_WORKERS
  else process.env.CTXLENS_WORKERS = previousWorkers
  dir.cleanup()
})

/** Resolves once a job:progress event matches, or fails after `ms`. */
function nextProgress(match: (p: EventPayload<'job:progress'>) => boolean, ms = 120_000): Promise<EventPayload<'job:progress'>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no matching job:progress event')), ms)
    const off = ctx.events.subscribe((e) => {
      if (e.event === 'job:progress' && match(e.payload)) {
        clearTimeout(timer)
        off()
        resolve(e.payload)
      }
    })
  })
}

describe('benchmark runs as jobs of the app', () => {
  it('need no project: listed with their config, paused and cancelled from Jobs, resumed from their phases, result kept', async () => {
    const config = parseBenchmarkConfig(tiny)
    const outDir = dir.file('bench')
    const phases = benchmarkPhaseCount(config)
    // Two models (train, evaluate), two (model, test set) pairs of a prediction and two methods.
    expect(phases).toBe(2 * 2 + 2 * (1 + 2))
    // Listing creates nothing: no benchmark ever ran in this home.
    expect(await call('jobs:list', {})).toEqual([])
    expect(existsSync(appJobStorePath())).toBe(false)
    expect(await call('benchmark:latest', {})).toEqual({ job: null, finished: null })

    // Started without waiting, as the Benchmark screen does; paused from Jobs once the models are trained.
    const firstExplain = nextProgress((p) => p.step?.label.includes('explain') === true)
    const started = await call('benchmark:start', { config: tiny, outDir })
    expect(started).toMatchObject({ kind: 'benchmark', scope: 'app', total: phases, params: { preset: null, name: 'tiny-job', outRoot: outDir }, result: null })
    expect(started.subject).toEqual({ dataset: 'texture-MNIST', model: '2 U-Nets', classes: null, method: 'context, vg', preset: 'tiny-job' })
    const jobId = started.id
    const atExplain = await firstExplain
    expect(atExplain).toMatchObject({ jobId, scope: 'app', kind: 'benchmark', state: 'running', total: phases })
    // Models and their evaluations are the first four phases, then the prediction of the first pair: all done
    // when its first explanation starts.
    expect(atExplain.done).toBe(5)
    expect(atExplain.step!.label).toMatch(new RegExp(`^6/${phases} explain`))
    const paused = await call('benchmark:pause', { jobId })
    expect(paused).toMatchObject({ id: jobId, state: 'paused', running: false, result: null })
    expect(paused.done).toBeGreaterThanOrEqual(5)
    expect(paused.done).toBeLessThan(phases)
    // While it ran, its task carried the job's id (the shell shows the job, not a second bar), and progress moved.
    expect(tasks.some((t) => t.label === `benchmark #${jobId}` && t.jobId === jobId)).toBe(true)
    const dones = progress.filter((p) => p.jobId === jobId).map((p) => p.done)
    expect(dones).toEqual([...dones].sort((a, b) => a - b))

    // In Jobs without a project, and on the Benchmark screen reopened: the paused run, no result yet.
    const listed = await call('jobs:list', {})
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ id: jobId, kind: 'benchmark', scope: 'app', state: 'paused', subject: { preset: 'tiny-job' } })
    const latest = await call('benchmark:latest', {})
    expect(latest.job?.id).toBe(jobId)
    expect(latest.finished).toBeNull()

    // Resumed, then cancelled from Jobs at its first step: cancelled is final, and says so when resumed again.
    const resumedStep = nextProgress((p) => p.jobId === jobId && p.step !== undefined)
    const resumed = await call('benchmark:resume', { jobId })
    expect(resumed.running).toBe(true)
    await resumedStep
    expect(await call('benchmark:cancel', { jobId })).toMatchObject({ state: 'cancelled', running: false })
    await expect(call('benchmark:resume', { jobId })).rejects.toMatchObject({ code: 'JOB_STATE' })

    // The same config again: a new job (the cancelled one stays as it was), whose models and evaluations come
    // from the run folder.
    const result = await call('benchmark:run', { config: tiny, outDir })
    expect(result.units.cached).toBeGreaterThanOrEqual(4)
    expect(result.name).toBe('tiny-job')
    const jobs = await call('jobs:list', {})
    expect(jobs.map((j) => [j.kind, j.state])).toEqual([
      ['benchmark', 'done'],
      ['benchmark', 'cancelled']
    ])
    expect(jobs[0]).toMatchObject({ done: phases, total: phases })

    // Another session (the app restarted, or the screen opened anew): the finished run and its result.
    const other = session()
    try {
      const back = await other.call('benchmark:latest', {})
      expect(back.job?.id).toBe(jobs[0].id)
      expect(back.finished?.result?.runDir).toBe(result.runDir)
      expect(back.finished?.result?.methods.map((m) => m.method)).toEqual(['context', 'vg'])
      expect(back.finished?.params.runDir).toBe(result.runDir)
      // Cancelling a finished run changes nothing.
      expect(await other.call('benchmark:cancel', { jobId: jobs[0].id })).toMatchObject({ state: 'done' })
    } finally {
      other.ctx.dispose()
    }
  })

  it('a run whose process died reads as interrupted and resumes from its run folder; a second process is refused', async () => {
    const store = JobStore.open(appJobStorePath())
    let jobId: number
    try {
      const job = createBenchmarkJob(store, { config: parseBenchmarkConfig(tiny), preset: null, configFile: null, outRoot: dir.file('bench') })
      jobId = job.id
      // Held by a process that no longer exists (written as its lease would be, without the close hook a live
      // lease registers): dead at once, as after a kill.
      const now = Date.now()
      store.jobs.acquireLease(jobId, { pid: 2 ** 22 + 12345, host: hostname(), token: 'killed' }, now, now - STALE_MS, null)
      store.jobs.setState(jobId, 'running')
    } finally {
      store.close()
    }
    const interrupted = (await call('jobs:list', {})).find((j) => j.id === jobId)!
    expect(interrupted).toMatchObject({ kind: BENCHMARK_JOB_KIND, state: 'interrupted' })

    // The CLI lists it with the command that continues it.
    const listed = await ctxlens('jobs', 'list')
    expect(listed.exitCode).toBeFalsy()
    expect(listed.out).toMatch(new RegExp(`#${jobId}\\s+benchmark\\s+interrupted\\s+0\\s+0\\s+${interrupted.total}\\s+\\S+\\s+app home`))
    expect(listed.out).toContain(`ctxlens benchmark --resume ${jobId}`)

    // Running the same config while it runs elsewhere is refused, naming the job.
    const owner = JobStore.open(appJobStorePath())
    const lease = JobLease.acquire(owner, jobId, { pid: process.pid })
    try {
      await expect(call('benchmark:run', { config: tiny, outDir: dir.file('bench') })).rejects.toMatchObject({
        code: 'JOB_RUNNING',
        message: expect.stringContaining(`Benchmark job ${jobId} is running in the same run folder`)
      })
    } finally {
      lease.release()
      owner.close()
    }

    // Resumed through the CLI (every unit is cached by the first test): done, with the result printed.
    const resumed = await ctxlens('benchmark', '--resume', String(jobId), '--no-progress')
    expect(resumed.exitCode).toBeFalsy()
    expect(resumed.out).toContain('Results: ')
    const done = (await call('jobs:list', {})).find((j) => j.id === jobId)!
    expect(done).toMatchObject({ state: 'done', done: done.total })
  })
})

/** The CLI in this process (its own session, the same home): what it printed and its exit code. */
async function ctxlens(...args: string[]): Promise<{ out: string; exitCode: number | undefined }> {
  const { buildProgram } = await import('@main/cli/program')
  let out = ''
  const write = process.stdout.write.bind(process.stdout)
  const log = console.log
  const errWrite = process.stderr.write.bind(process.stderr)
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  }) as typeof process.stdout.write
  process.stderr.write = process.stdout.write
  console.log = (...parts: unknown[]) => {
    out += `${parts.join(' ')}\n`
  }
  const before = process.exitCode
  try {
    await buildProgram('0.0.0').exitOverride().parseAsync(['node', 'ctxlens', ...args])
    return { out, exitCode: process.exitCode as number | undefined }
  } finally {
    process.stdout.write = write
    process.stderr.write = errWrite
    console.log = log
    process.exitCode = before
  }
}
