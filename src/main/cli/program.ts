import { Command, Option } from 'commander'
import { BACKEND_NAMES } from '@common/types'
import { registerAudit } from './commands/audit'
import { registerBenchmark } from './commands/benchmark'
import { registerBookmarks } from './commands/bookmarks'
import { registerDataset } from './commands/dataset'
import { registerDemo } from './commands/demo'
import { registerExplain } from './commands/explain'
import { registerImport } from './commands/import'
import { registerInfo } from './commands/info'
import { registerJobs } from './commands/jobs'
import { registerModels } from './commands/models'
import { registerPredict } from './commands/predict'
import { registerProject } from './commands/project'
import { registerReport } from './commands/report'
import { registerStats } from './commands/stats'
import { printError } from './output'
import { CliSession } from './session'

/** Runs one command body in a fresh session and maps any failure to its error code and a non-zero exit. */
export type CommandContext = (opts: { json?: boolean }, body: (session: CliSession) => Promise<void>) => Promise<void>

export function buildProgram(version: string): Command {
  const program = new Command('ctxlens')
    .description('Context Lens: context explanations (grid saliency) for semantic-segmentation models')
    .version(version)
    .addOption(new Option('--backend <name>', 'force a TensorFlow.js backend').choices([...BACKEND_NAMES, 'auto']))
    .showHelpAfterError()

  const run: CommandContext = async (opts, body) => {
    const session = new CliSession({ backend: program.opts<{ backend?: string }>().backend })
    try {
      await body(session)
    } catch (err) {
      printError(err, opts.json ?? false)
      process.exitCode = 1
    } finally {
      session.dispose()
    }
  }

  registerInfo(program, run)
  registerProject(program, run)
  registerBookmarks(program, run)
  registerDataset(program, run)
  registerExplain(program, run)
  registerImport(program, run)
  registerModels(program, run)
  registerPredict(program, run)
  registerAudit(program, run)
  registerJobs(program, run)
  registerStats(program, run)
  registerReport(program, run)
  registerBenchmark(program, run)
  registerDemo(program, run)
  return program
}
