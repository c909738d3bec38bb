import { type Command, Option } from 'commander'
import { JOB_STATES, type JobState } from '@common/types'
import { printJson, table } from '../output'
import { pathArg } from '../argParsers'
import type { CommandContext } from '../program'

export function registerJobs(program: Command, run: CommandContext): void {
  const jobs = program.command('jobs').description("List the stored jobs of a project (audits) and the app's own (benchmark runs), and their state")

  jobs
    .command('list')
    .description('List jobs, newest first; "interrupted" is a job whose process ended without stopping it (resumable)')
    .option('--project <file>', "the project file (without it, only the app's own jobs: benchmark runs)", pathArg)
    .addOption(new Option('--state <state>', 'only jobs in this state').choices([...JOB_STATES]))
    .option('--json', 'print JSON')
    .action((opts: { project?: string; state?: JobState; json?: boolean }) =>
      run(opts, async (session) => {
        await session.openProject(opts.project)
        const list = await session.call('jobs:list', opts.state ? { state: opts.state } : {})
        if (opts.json) return printJson(list)
        if (list.length === 0) return console.log(opts.state ? `No ${opts.state} jobs.` : 'No jobs yet.')
        console.log(
          table([
            ['job', 'kind', 'state', 'done', 'failed', 'total', 'updated', 'stored in'],
            ...list.map((j) => [`#${j.id}`, j.kind, j.state, j.done, j.failed, j.total, j.updatedAt, j.scope === 'app' ? 'app home' : 'project'])
          ])
        )
        for (const j of list.filter((j) => j.state === 'interrupted' || j.state === 'paused')) {
          if (j.kind === 'audit' && j.scope === 'project') console.log(`\nResume job #${j.id} with: ctxlens audit --project ${opts.project} --resume ${j.id}`)
          else if (j.kind === 'benchmark' && j.scope === 'app') console.log(`\nResume benchmark job #${j.id} with: ctxlens benchmark --resume ${j.id}`)
        }
      })
    )
}
