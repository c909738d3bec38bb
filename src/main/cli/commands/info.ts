import type { Command } from 'commander'
import { printJson, table } from '../output'
import type { CommandContext } from '../program'
import { pathArg } from '../argParsers'

export function registerInfo(program: Command, run: CommandContext): void {
  program
    .command('info')
    .description('Print the app version, Node version, the TensorFlow.js backend in use and the project schema version')
    .option('--project <file>', 'a project file (.ctxlens) whose schema version to report', pathArg)
    .option('--json', 'print JSON')
    .action((opts: { project?: string; json?: boolean }) =>
      run(opts, async (session) => {
        await session.openProject(opts.project)
        const info = await session.call('app:info', {})
        if (opts.json) return printJson(info)
        console.log(
          table([
            ['Context Lens', info.appVersion],
            ['Node.js', info.nodeVersion],
            ['Platform', info.platform],
            ['Backend', `${info.backend.name}${info.backend.forcedBy ? ` (forced by ${info.backend.forcedBy})` : ''}`],
            ...info.backend.skipped.map((s) => [`  skipped ${s.name}`, s.reason]),
            ['ONNX Runtime', info.onnxRuntime.available ? `${info.onnxRuntime.version ?? '?'}, provider ${info.onnxRuntime.provider} (known: ${info.onnxRuntime.providers.join(', ')})` : `unavailable: ${info.onnxRuntime.reason}`],
            ['Project', info.project ? info.project.path : '(none)'],
            ['Schema version', info.project ? `${info.project.schemaVersion} (latest ${info.project.latestSchemaVersion})` : '-']
          ])
        )
      })
    )
}
