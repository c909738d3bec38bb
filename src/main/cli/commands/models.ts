import { Command } from 'commander'
import { printJson, table } from '../output'
import type { CommandContext } from '../program'
import { registerExportOnnx } from './exportOnnx'

export function registerModels(program: Command, run: CommandContext): void {
  const models = program.command('models').description('Models registered in a project')
  models
    .command('add')
    .description('Register a model folder (tfjs files + ctxlens.model.json) in a project')
    .requiredOption('--project <file>', 'the project file')
    .requiredOption('--model <dir>', 'the model folder')
    .option('--name <name>', 'display name (default: the sidecar name)')
    .option('--json', 'print the model as JSON')
    .action((opts: { project: string; model: string; name?: string; json?: boolean }) =>
      run(opts, async (session) => {
        await session.openProject(opts.project)
        const m = await session.call('models:add', { dir: opts.model, ...(opts.name ? { name: opts.name } : {}) })
        if (opts.json) return printJson(m)
        console.log(
          table([
            ['Model', `${m.name} (#${m.id})`],
            ['Architecture', m.architecture],
            ['Input', `${m.input.height}×${m.input.width}×${m.input.channels}`],
            ['Classes', m.classes.map((c) => `${c.id} ${c.name}`).join(', ')],
            ['Folder', m.dir]
          ])
        )
      })
    )
  registerExportOnnx(models, run)
}
