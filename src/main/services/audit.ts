import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { AppError } from '@common/errors'
import type { auditMethods } from '@common/methods/audit'
import type { JobSummary } from '@common/types'
import { DEMO_DATASET_NAME, buildDemo } from '../audit/demo'
import { statsText } from '../audit/export'
import { auditJobParams, createAuditJob, runAuditJob } from '../audit/jobs'
import { confusionReport, predictDataset } from '../audit/predict'
import { auditStats } from '../audit/stats'
import type { StopReason } from '../jobs/lease'
import { JobRunner } from '../jobs/runner'
import { getJob } from '../jobs/status'
import { demoProjectPath } from '../paths'
import { Project } from '../store/project'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'
import { checkOutputFile, writeOutputFile } from './outputFile'

export function auditServices(ctx: ServiceContext): AreaServices<typeof auditMethods> {
  // Audits run through the jobs' one state machine; an audit's work is runAuditJob on the engine.
  const runner = new JobRunner<Project, JobSummary>({
    tasks: ctx.tasks,
    name: (jobId) => `Job ${jobId}`,
    taskLabel: (jobId) => `audit #${jobId}`,
    logFailure: (jobId, message) => ctx.events.log('error', `Audit job ${jobId} failed: ${message}`),
    work: async (project, jobId, { lease, signal, task }) =>
      runAuditJob(project, jobId, await ctx.engine(), {
        lease,
        signal,
        onProgress: (p) => {
          ctx.events.emit('job:progress', p)
          task.progress(p.done + p.failed, p.total, p.state, jobId)
        }
      })
  })

  const stop = async (jobId: number, reason: StopReason): Promise<JobSummary> => {
    const project = ctx.requireProject()
    auditJobParams(project, jobId)
    await runner.stop(project, getJob(project, jobId)!, reason)
    return getJob(project, jobId)!
  }

  return {
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
      const finished = runner.launch(project, job.id)
      if (wait) return finished
      runner.background(finished, job.id)
      return getJob(project, job.id)!
    },

    'audit:resume': async ({ jobId, wait }) => {
      const project = ctx.requireProject()
      auditJobParams(project, jobId)
      const job = getJob(project, jobId)!
      if (job.state === 'done') return job
      const run = runner.resume(project, job)
      if (!run) return job
      if (wait) return run.finished
      if (run.launched) runner.background(run.finished, jobId)
      return getJob(project, jobId)!
    },

    'audit:pause': ({ jobId }) => stop(jobId, 'pause'),
    'audit:cancel': ({ jobId }) => stop(jobId, 'cancel'),

    'audit:job': async ({ jobId }) => {
      const project = ctx.requireProject()
      const job = getJob(project, jobId)
      if (!job) throw new AppError('JOB_NOT_FOUND', `No job ${jobId}`, { jobId })
      return { ...job, params: project.jobs.params(jobId), failures: project.jobs.failures(jobId), running: runner.isRunning(project, jobId) }
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
