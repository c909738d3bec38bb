import type { Command } from 'commander'
import { printJson, table } from '../output'
import type { CommandContext } from '../program'
import { pathArg } from '../argParsers'

export function registerProject(program: Command, run: CommandContext): void {
  const project = program.command('project').description('Create and inspect project files (one SQLite file per project)')

  project
    .command('create')
    .description('Create a new, empty project file')
    .argument('<file>', 'path of the new project file, e.g. audit.ctxlens', pathArg)
    .option('--name <name>', 'a display name (default: the file name)')
    .option('--json', 'print JSON')
    .action((file: string, opts: { name?: string; json?: boolean }) =>
      run(opts, async (session) => {
        const summary = await session.call('project:create', { path: file, ...(opts.name ? { name: opts.name } : {}) })
        if (opts.json) return printJson(summary)
        console.log(`Created ${summary.path} (schema version ${summary.schemaVersion})`)
      })
    )

  project
    .command('show')
    .description('Show what a project file holds')
    .requiredOption('--project <file>', 'the project file', pathArg)
    .option('--json', 'print JSON')
    .action((opts: { project: string; json?: boolean }) =>
      run(opts, async (session) => {
        const summary = await session.call('project:open', { path: opts.project })
        if (opts.json) return printJson(summary)
        console.log(
          table([
            ['Project', summary.name],
            ['File', summary.path],
            ['Schema version', summary.schemaVersion],
            ...Object.entries(summary.counts).map(([k, v]) => [k, v])
          ])
        )
      })
    )
}
