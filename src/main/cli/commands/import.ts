import { Command, Option } from 'commander'
import { IMPORT_FORMATS } from '@common/datasets'
import { printJson, table } from '../output'
import type { CommandContext } from '../program'
import { withProgress } from '../progress'
import { pathArg } from '../argParsers'

interface ImportOptions {
  project: string
  root: string
  format: string
  name?: string
  splits?: string
  allowDuplicate?: boolean
  progress: boolean
  json?: boolean
}

export function registerImport(program: Command, run: CommandContext): void {
  program
    .command('import')
    .description('Import a dataset folder (Cityscapes, Pascal VOC, generic folder, texture-MNIST) into a project')
    .requiredOption('--project <file>', 'the project file', pathArg)
    .requiredOption('--root <dir>', 'the dataset folder (images stay there)', pathArg)
    .addOption(new Option('--format <format>', 'dataset layout').choices([...IMPORT_FORMATS]).default('auto'))
    .option('--name <name>', 'dataset name (default: the folder name, numbered if a dataset has it)')
    .option('--splits <list>', 'only these splits, comma-separated (e.g. val)')
    .option('--allow-duplicate', 'import a folder the project already holds (same splits) again, as a second dataset')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the import report as JSON')
    .action((opts: ImportOptions) =>
      run(opts, async (session) => {
        await session.openProject(opts.project)
        const report = await withProgress(session, opts.progress && !opts.json, () =>
          session.call('datasets:import', {
            root: opts.root,
            format: opts.format as 'auto',
            ...(opts.name ? { name: opts.name } : {}),
            ...(opts.splits ? { splits: opts.splits.split(',').map((s) => s.trim()) } : {}),
            ...(opts.allowDuplicate ? { allowDuplicate: true } : {})
          })
        )
        if (opts.json) return printJson(report)
        console.log(
          table([
            ['Dataset', `${report.dataset.name} (#${report.dataset.id}, ${report.format})`],
            ['Imported', `${report.imported} images (${Object.entries(report.bySplit).map(([k, v]) => `${k}: ${v}`).join(', ')})`],
            ['Skipped', report.skipped]
          ])
        )
        for (const [kind, e] of Object.entries(report.errors)) {
          if (!e || e.count === 0) continue
          console.log(`\n${kind}: ${e.count}`)
          for (const f of e.files.slice(0, 10)) console.log(`  ${f}`)
          if (e.files.length > 10) console.log(`  ... and ${e.files.length - 10} more`)
        }
        if (report.warnings.length > 0) console.log(`\nWarnings:\n${report.warnings.map((w) => `  ${w}`).join('\n')}`)
      })
    )
}
