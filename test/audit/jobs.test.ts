import { spawn } from 'node:child_process'
import { copyFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { AuditOptionsSchema } from '../../src/common/audit'
import type { Faithfulness } from '../../src/common/saliency'
import { selectSegments } from '../../src/main/audit/jobs'
import { buildProgram } from '../../src/main/cli/program'
import { Project } from '../../src/main/store/project'
import type { ExplanationRecord } from '../../src/main/store/repositories/explanations'
import type { SaliencyParams } from '../../src/common/saliency'
import { initBackend } from '../../src/main/engine/backend'
import { readSidecar } from '../../src/main/engine/modelFiles'
import { openSegmentationModel } from '../../src/main/engine/openModel'
import { readImageForModel } from '../../src/main/explain/imageInput'
import { computeSaliency } from '../../src/main/saliency'
import { tempDir } from '../helpers/tempdir'
import { maxAbsDiff } from '../engine/pool/helpers'
import { auditOptions, buildAuditProject, copyProject } from './fixtures/project'
import { services } from './helpers'

/**
 * Audit jobs: a job killed mid-run and resumed ends with exactly the results of an uninterrupted one; pause,
 * cancel and resume through the service; a failing item is recorded and the job carries on.
 */
const dir = tempDir()
const { ctx, call } = services()
let base: Awaited<ReturnType<typeof buildAuditProject>>

beforeAll(async () => {
  base = await buildAuditProject(dir.path, call)
})
afterAll(() => {
  ctx.dispose()
  dir.cleanup()
})

/**
 * Starts an audit in a second OS process that freezes once `freezeAfter` items are done (alive, holding the job,
 * storing nothing more); resolves when it froze, with its pid and a kill that resolves once it is gone.
 */
function startFrozenAudit(path: string, options: unknown, freezeAfter: number, workers: number): Promise<{ pid: number; out: () => string; kill: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const script = join(import.meta.dirname, 'fixtures', 'killedAudit.ts')
    const child = spawn(process.execPath, ['--import', 'tsx', script, path, JSON.stringify(options), String(freezeAfter), String(workers)], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    let err = ''
    const exited = new Promise<void>((done) => child.on('exit', () => done()))
    const handle = {
      pid: child.pid!,
      out: () => out,
      kill: async () => {
        child.kill('SIGKILL')
        await exited
      }
    }
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('frozen after')) resolve(handle)
    })
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`audit ended without freezing: ${err || out}`))
    })
  })
}

/** The real CLI program in this process, its console output captured. */
async function ctxlensInProcess(...args: string[]): Promise<{ out: string; exitCode: number | string | undefined }> {
  const lines: string[] = []
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')))
  const before = process.exitCode
  try {
    await buildProgram('0.0.0').parseAsync(['node', 'ctxlens', ...args])
    return { out: lines.join('\n'), exitCode: process.exitCode }
  } finally {
    log.mockRestore()
    process.exitCode = before
  }
}

const byKey = (rows: ExplanationRecord[]) => new Map(rows.map((r) => [r.jobItemKey!, r]))

describe('segment selection', () => {
  it('samplePerPair keeps at most n per (GT, predicted) pair and every pair, seeded', () => {
    const project = Project.open(copyProject(base.path, dir.file('select.ctxlens')))
    try {
      const select = (segments: Record<string, unknown>) =>
        selectSegments(project, AuditOptionsSchema.parse({ datasetId: base.datasetId, modelId: base.modelId, segments }))
      const pairOf = (s: { gtClass: number | null; predClass: number | null }) => `${s.gtClass}:${s.predClass}`
      const all = select({})
      const pairs = new Map<string, number>()
      for (const s of all) pairs.set(pairOf(s), (pairs.get(pairOf(s)) ?? 0) + 1)
      // The fixture must have a pair with several segments, or the sampling below would prove nothing.
      expect(Math.max(...pairs.values())).toBeGreaterThan(1)

      const one = select({ samplePerPair: 1, seed: 3 })
      expect(one).toHaveLength(pairs.size)
      expect(new Set(one.map(pairOf))).toEqual(new Set(pairs.keys()))
      expect(select({ samplePerPair: 1, seed: 3 }).map((s) => s.id)).toEqual(one.map((s) => s.id))
      // Then sampleSize thins the per-pair sample further.
      expect(select({ samplePerPair: 1, sampleSize: 1, seed: 3 })).toHaveLength(1)
    } finally {
      project.close()
    }
  })
})

describe('audit jobs', () => {
  it('a second process is refused while the job runs; killed, it reads interrupted, keeps each item it finished, and resumes to the results of an uninterrupted run', async () => {
    // Batches of 4 over 2 workers in the child: items are stored as each share finishes, not per batch.
    const options = { ...auditOptions(base.datasetId, base.modelId), batchSize: 4 }
    const killedPath = copyProject(base.path, dir.file('killed.ctxlens'))
    const cleanPath = copyProject(base.path, dir.file('clean.ctxlens'))

    const child = await startFrozenAudit(killedPath, options, 3, 2)
    try {
      // This test process is the second runner: same file, the job still owned by the live (frozen) child.
      await call('project:open', { path: killedPath })
      const [owned] = await call('jobs:list', {})
      expect(owned.state).toBe('running')
      const refused = await call('audit:resume', { jobId: owned.id, wait: true }).then(
        () => null,
        (e: unknown) => e as { code: string; message: string }
      )
      expect(refused?.code).toBe('JOB_RUNNING')
      expect(refused?.message).toMatch(new RegExp(`^Job ${owned.id} \\(audit\\) is running in process ${child.pid} \\(last heartbeat \\d+ s ago\\)`))
      await expect(call('audit:cancel', { jobId: owned.id })).rejects.toMatchObject({ code: 'JOB_RUNNING' })
      expect(ctx.requireProject().explanations.forJob(owned.id)).toHaveLength(3)
    } finally {
      await child.kill()
    }
    // Its process is gone: interrupted at once (no waiting for the heartbeat to age), in the service and the CLI.
    const [killedJob] = await call('jobs:list', {})
    expect(killedJob.state).toBe('interrupted')
    // Killed after 3 items were reported done: exactly those 3 are stored, none half-stored, none of the batch lost.
    expect(killedJob.done).toBe(3)
    expect(ctx.requireProject().explanations.forJob(killedJob.id)).toHaveLength(3)
    const cli = await ctxlensInProcess('jobs', 'list', '--project', killedPath)
    expect(cli.exitCode).toBeFalsy()
    expect(cli.out).toMatch(new RegExp(`#${killedJob.id}\\s+audit\\s+interrupted\\s+3\\s+0\\s+${killedJob.total}`))
    expect(cli.out).toContain(`--resume ${killedJob.id}`)

    const resumed = await call('audit:resume', { jobId: killedJob.id, wait: true })
    expect(resumed).toMatchObject({ state: 'done', done: killedJob.total, failed: 0 })
    const killedRows = ctx.requireProject().explanations.forJob(killedJob.id)

    await call('project:open', { path: cleanPath })
    const clean = await call('audit:start', { ...options, wait: true })
    expect(clean).toMatchObject({ state: 'done', total: killedJob.total, done: killedJob.total })
    const cleanRows = ctx.requireProject().explanations.forJob(clean.id)

    // Same item keys, one explanation each, the same saliency to float tolerance.
    expect(killedRows).toHaveLength(cleanRows.length)
    expect(new Set(killedRows.map((r) => r.jobItemKey)).size).toBe(killedRows.length)
    const a = byKey(killedRows)
    const b = byKey(cleanRows)
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort())
    for (const [key, r] of a) {
      const c = b.get(key)!
      expect(r.segmentId).toBe(c.segmentId)
      expect(r.classId).toBe(c.classId)
      expect(Array.from(r.request)).toEqual(Array.from(c.request))
      for (let i = 0; i < r.saliency.length; i++) expect(r.saliency[i]).toBeCloseTo(c.saliency[i], 5)
    }
    // The masks are not trivially equal (all 0.5 would pass any comparison).
    expect(cleanRows.some((r) => r.saliency.some((v) => Math.abs(v - 0.5) > 0.01))).toBe(true)
  })

  it('pause, resume and cancel through the service', async () => {
    await call('project:open', { path: copyProject(base.path, dir.file('pause.ctxlens')) })
    const options = auditOptions(base.datasetId, base.modelId)
    const progress: { jobId: number; done: number; state: string; ratePerSecond: number | null; etaSeconds: number | null }[] = []
    const taskProgress: { state: string; total: number; jobId?: number }[] = []
    const unsubscribe = ctx.events.subscribe((e) => {
      if (e.event === 'job:progress') progress.push(e.payload)
      else if (e.event === 'task:progress') taskProgress.push(e.payload)
    })

    const started = await call('audit:start', options)
    expect(started.state).not.toBe('done')
    await waitFor(() => progress.some((p) => p.jobId === started.id && p.done >= 2))
    const paused = await call('audit:pause', { jobId: started.id })
    expect(paused.state).toBe('paused')
    expect(paused.done).toBeLessThan(paused.total)
    const afterPause = ctx.requireProject().explanations.forJob(started.id).length
    expect(afterPause).toBe(paused.done)
    // A progress event carries a rate and an ETA once items are done.
    expect(progress.find((p) => p.jobId === started.id && p.done >= 2)).toMatchObject({ ratePerSecond: expect.any(Number), etaSeconds: expect.any(Number) })

    const done = await call('audit:resume', { jobId: started.id, wait: true })
    expect(done).toMatchObject({ state: 'done', done: paused.total, failed: 0 })
    const rows = ctx.requireProject().explanations.forJob(started.id)
    expect(rows).toHaveLength(paused.total)
    expect(new Set(rows.map((r) => r.jobItemKey)).size).toBe(paused.total)

    const second = await call('audit:start', options)
    await waitFor(() => progress.some((p) => p.jobId === second.id && p.done >= 1))
    const cancelled = await call('audit:cancel', { jobId: second.id })
    expect(cancelled.state).toBe('cancelled')
    await expect(call('audit:resume', { jobId: second.id })).rejects.toMatchObject({ code: 'JOB_STATE' })
    expect(ctx.requireProject().explanations.forJob(second.id)).toHaveLength(cancelled.done)
    // The task running a job names it, so the CLI leaves that progress to the job's own bar.
    const counted = taskProgress.filter((p) => p.state === 'running' && p.total > 0)
    expect(counted.length).toBeGreaterThan(0)
    for (const p of counted) expect([started.id, second.id]).toContain(p.jobId)
    unsubscribe()
  })

  it('stores what computeSaliency gives in this thread on the image file read for the model', async () => {
    // The audit sends a worker the image's 8-bit RGB, which the worker turns into the model's input; here the file
    // is read and converted in this thread and explained in process: the masks must agree.
    await call('project:open', { path: copyProject(base.path, dir.file('inprocess.ctxlens')) })
    const project = ctx.requireProject()
    const options = { ...auditOptions(base.datasetId, base.modelId), segments: { kinds: ['correct' as const, 'misclassified' as const], sampleSize: 4, seed: 1 }, batchSize: 4 }
    const job = await call('audit:start', { ...options, params: { ...options.params, steps: 8 }, wait: true })
    expect(job.state).toBe('done')
    const stored = project.explanations.forJob(job.id)
    expect(stored.length).toBeGreaterThan(1)
    const modelDir = project.models.get(base.modelId)!.dir
    const sidecar = await readSidecar(modelDir)
    await initBackend({ flag: 'cpu' })
    const opened = await openSegmentationModel(modelDir)
    try {
      for (const e of stored) {
        const file = join(base.dataRoot, project.datasets.image(e.imageId)!.path)
        const image = await readImageForModel(file, sidecar)
        const [expected] = await computeSaliency(
          opened,
          [{ id: 'x', image: { data: image.data, height: image.height, width: image.width, channels: image.channels }, request: e.request, classId: e.classId }],
          e.params as unknown as SaliencyParams
        )
        expect(e.saliency.length).toBe(expected.mask.length)
        expect(maxAbsDiff(e.saliency, expected.mask)).toBeLessThan(1e-5)
        expect((e.summary as { scoreOriginal: number }).scoreOriginal).toBeCloseTo(expected.scoreOriginal, 5)
      }
      // Not all untouched initial masks: the comparison above says something.
      expect(stored.some((e) => e.saliency.some((v) => Math.abs(v - 0.5) > 0.01))).toBe(true)
    } finally {
      opened.dispose()
    }
  })

  it('an item that fails is recorded with its error and the job carries on', async () => {
    await call('project:open', { path: copyProject(base.path, dir.file('failing.ctxlens')) })
    const project = ctx.requireProject()
    const images = project.datasets.images(base.datasetId)
    // Deleting an image file after import: its items cannot be explained, the others can.
    const victim = images[1]
    const options = { ...auditOptions(base.datasetId, base.modelId), segments: { kinds: ['correct' as const, 'misclassified' as const] }, batchSize: 4 }
    const itemsOfVictim = project.segments.forImage(victim.id).filter((s) => s.modelId === base.modelId && (s.kind === 'correct' || s.kind === 'misclassified')).length
    expect(itemsOfVictim).toBeGreaterThan(0)
    const victimPath = join(base.dataRoot, victim.path)
    copyFileSync(victimPath, `${victimPath}.bak`)
    rmSync(victimPath)
    try {
      const job = await call('audit:start', { ...options, params: { ...options.params, steps: 2 }, wait: true })
      expect(job.state).toBe('done')
      expect(job.failed).toBe(itemsOfVictim)
      expect(job.done).toBe(job.total - itemsOfVictim)
      const detail = await call('audit:job', { jobId: job.id })
      expect(detail.failures).toHaveLength(itemsOfVictim)
      for (const f of detail.failures) {
        expect(f.code).toBe('IMAGE_UNREADABLE')
        expect(f.message).toContain(victim.path)
      }
      expect(project.explanations.forJob(job.id).every((e) => e.imageId !== victim.id)).toBe(true)
    } finally {
      renameSync(`${victimPath}.bak`, victimPath)
    }
  })

  it('a request the engine refuses fails alone; the rest of its batch is stored', async () => {
    await call('project:open', { path: copyProject(base.path, dir.file('refused.ctxlens')) })
    const project = ctx.requireProject()
    const image = project.datasets.images(base.datasetId)[0]
    // A stored segment whose mask is empty: the engine refuses it (EMPTY_REQUEST_MASK), failing its whole batch.
    const [broken] = project.segments.insertMany([
      { imageId: image.id, modelId: base.modelId, source: 'gt-and-predicted', gtClass: 0, predClass: 0, kind: 'correct', area: 5, bbox: [0, 0, 1, 1], mask: new Uint8Array(16 * 16) }
    ])
    const options = auditOptions(base.datasetId, base.modelId)
    const job = await call('audit:start', { ...options, params: { ...options.params, steps: 2 }, segments: { kinds: ['correct'] }, batchSize: 4, wait: true })
    expect(job.state).toBe('done')
    expect(job.failed).toBe(1)
    expect(job.done).toBe(job.total - 1)
    const detail = await call('audit:job', { jobId: job.id })
    expect(detail.failures).toEqual([{ itemKey: `segment:${broken}`, code: 'EMPTY_REQUEST_MASK', message: expect.any(String) }])
    expect(project.explanations.forJob(job.id)).toHaveLength(job.total - 1)
    // Each stored explanation carries its deletion check, measured on its own image and request.
    for (const e of project.explanations.forJob(job.id)) {
      const summary = e.summary as { scoreOriginal: number; faithfulness: Faithfulness }
      expect(summary.faithfulness.fractions).toHaveLength(9)
      expect(summary.faithfulness.salient[0]).toBeCloseTo(summary.scoreOriginal, 4)
    }
  })
})

async function waitFor(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const start = Date.now()
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 20))
  }
}
