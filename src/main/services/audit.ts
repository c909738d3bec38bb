import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { AppError } from '@common/errors'
import type { auditMethods } from '@common/methods/audit'
import type { JobSummary } from '@common/types'
import { DEMO_DATASET_NAME, buildDemo } from '../audit/demo'
import { statsText } from '../audit/export'
import { auditJobParams, createAuditJob, runAuditJob, type StopReason } from '../audit/jobs'
import { modelSummary, registerModel } from '../audit/models'
import { confusionReport, predictDataset } from '../audit/predict'
import { auditStats } from '../audit/stats'
import { JobLease, stopIdleJob } from '../jobs/lease'
import { getJob } from '../jobs/status'
import { demoProjectPath } from '../paths'
import { Project } from '../store/project'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'
import { checkOutputFile, writeOutputFile } from './outputFile'

interface RunningJob {
  controller: AbortController
  finished: Promise<JobSummary>
}

const RESUMABLE = new Set(['queued', 'paused', 'failed', 'interrupted'])

export function auditServices(ctx: ServiceContext): AreaServices<typeof auditMethods> {
  // Jobs running in this app, so pause and cancel can reach them; the stored state is the truth across processes.
  // Keyed by project file too: job ids restart in every project, and a job keeps running when another opens.
  const runs = new Map<string, RunningJob>()
  const keyOf = (project: Project, jobId: number): string => `${resolve(project.path)}#${jobId}`
  const running = {
    get: (project: Project, jobId: number) => runs.get(keyOf(project, jobId)),
    has: (project: Project, jobId: number) => runs.has(keyOf(project, jobId))
  }

  /**
   * Runs a job as a task (so the CLI's bar, tasks:cancel and shutdown reach it). Stopping the task from outside
   * pauses the job: it stays resumable. The job's lease is taken first, so a job another process runs is refused
   * (JOB_RUNNING) as this call's reply rather than in the background.
   */
  const launch = (project: Project, jobId: number): Promise<JobSummary> => {
    if (running.has(project, jobId)) throw new AppError('JOB_STATE', `Job ${jobId} is already running`, { jobId })
    const lease = JobLease.acquire(project, jobId)
    const controller = new AbortController()
    const finished = ctx.tasks
      .run(`audit #${jobId}`, async (task) => {
        const onTaskAbort = (): void => controller.abort('pause' satisfies StopReason)
        task.signal.addEventListener('abort', onTaskAbort, { once: true })
        try {
          const pool = await ctx.engine()
          return await runAuditJob(project, jobId, pool, {
            lease,
            signal: controller.signal,
            onProgress: (p) => {
              ctx.events.emit('job:progress', p)
              task.progress(p.done + p.failed, p.total, p.state, jobId)
            }
          })
        } finally {
          task.signal.removeEventListener('abort', onTaskAbort)
          // Only when the run never started (no engine): the job stays as it was, free for the next try.
          lease.release()
        }
      })
      .finally(() => runs.delete(keyOf(project, jobId)))
    runs.set(keyOf(project, jobId), { controller, finished })
    return finished
  }

  const background = (p: Promise<JobSummary>, jobId: number): void => {
    p.catch((err: unknown) => ctx.events.log('error', `Audit job ${jobId} failed: ${err instanceof Error ? err.message : String(err)}`))
  }

  const stop = async (jobId: number, reason: StopReason): Promise<JobSummary> => {
    const project = ctx.requireProject()
    auditJobParams(project, jobId)
    const run = running.get(project, jobId)
    if (run) {
      run.controller.abort(reason)
      await run.finished.catch(() => undefined)
      return getJob(project, jobId)!
    }
    stopIdleJob(project, getJob(project, jobId)!, reason)
    return getJob(project, jobId)!
  }

  return {
    'models:add': async ({ dir, name, description }) => modelSummary(await registerModel(ctx.requireProject(), dir, name, description)),

    'audit:predict': (input) => {
      const project = ctx.requireProject()
      return ctx.tasks.run('predict', async (task) =>
        predictDataset(project, await ctx.engine(), input, { signal: task.signal, onProgress: (d, t) => task.progress(d, t) })
      )
    },
    'audit:confusion': (input) => confusionReport(ctx.requireProject(), input),

    'audit:start': async ({ wait, ...options }) => {
      const project = ctx.requireProject()
      const job = await createAuditJob(project, { ...options, wait })
      const finished = launch(project, job.id)
      if (wait) return finished
      background(finished, job.id)
      return getJob(project, job.id)!
    },

    'audit:resume': async ({ jobId, wait }) => {
      const project = ctx.requireProject()
      auditJobParams(project, jobId)
      const job = getJob(project, jobId)!
      if (job.state === 'done') return job
      const run = running.get(project, jobId)
      if (run) {
        if (wait) return run.finished
        return job
      }
      // 'running' here is another live process's run: launch's lease refuses it with JOB_RUNNING, naming it.
      if (job.state !== 'running' && !RESUMABLE.has(job.state)) {
        throw new AppError('JOB_STATE', `Job ${jobId} is ${job.state}; only queued, paused, interrupted or failed jobs can be resumed`, { jobId, state: job.state })
      }
      const finished = launch(project, jobId)
      if (wait) return finished
      background(finished, jobId)
      return getJob(project, jobId)!
    },

    'audit:pause': ({ jobId }) => stop(jobId, 'pause'),
    'audit:cancel': ({ jobId }) => stop(jobId, 'cancel'),

    'audit:job': async ({ jobId }) => {
      const project = ctx.requireProject()
      const job = getJob(project, jobId)
      if (!job) throw new AppError('JOB_NOT_FOUND', `No job ${jobId}`, { jobId })
      return { ...job, params: project.jobs.params(jobId), failures: project.jobs.failures(jobId), running: running.has(project, jobId) }
    },

    'audit:stats': (options) => auditStats(ctx.requireProject(), options),

    'audit:formatStats': async ({ format, ...options }) => ({ format, text: statsText(await auditStats(ctx.requireProject(), options), format) }),

    'audit:exportStats': async ({ format, path, overwrite, ...options }) => {
      const project = ctx.requireProject()
      const file = { path: resolve(path), what: 'the statistics', overwrite }
      await checkOutputFile(file)
      const text = statsText(await auditStats(project, options), format)
      await writeOutputFile(file, text)
      return { path: file.path, format, bytes: Buffer.byteLength(text) }
    },

    'audit:demo': async (input) => {
      const projectPath = resolve(input.projectPath ?? demoProjectPath())
      const current = ctx.currentProject
      if (input.rebuild && existsSync(projectPath)) {
        // --rebuild deletes a file: only one that holds nothing but the demo, never a user's own project.
        const project = current && resolve(current.path) === projectPath ? current : Project.open(projectPath)
        const others = project.datasets.list().filter((d) => d.name !== DEMO_DATASET_NAME)
        if (project !== current) project.close()
        if (others.length > 0) {
          throw new AppError('CONFLICT', `${projectPath} is not a demo project (it holds ${others.map((d) => `"${d.name}"`).join(', ')}); --rebuild deletes only demo projects`, {
            projectPath
          })
        }
        if (project === current) ctx.setProject(null)
        // The project file only: the generated images (keyed by size, seed and count) are the same and reused.
        for (const suffix of ['', '-wal', '-shm']) rmSync(projectPath + suffix, { force: true })
      }
      if (!ctx.currentProject || resolve(ctx.currentProject.path) !== projectPath) {
        mkdirSync(dirname(projectPath), { recursive: true })
        ctx.setProject(existsSync(projectPath) ? Project.open(projectPath) : Project.create(projectPath, 'Demo'))
      }
      const project = ctx.requireProject()
      return ctx.tasks.run('demo', async (task) => {
        const result = await buildDemo(project, await ctx.engine(), input, {
          signal: task.signal,
          onProgress: (phase, done, total, jobId) => task.progress(done, total, phase, jobId),
          onJobProgress: (p) => ctx.events.emit('job:progress', p)
        })
        return { projectPath, ...result }
      })
    }
  }
}
