import { Command } from 'commander'
import { printJson, table } from '../output'
import type { CommandContext } from '../program'
import { withProgress } from '../progress'
import { printJob } from './audit'
import { printConfusion } from './predict'
import { intInRange, pathArg, positiveInt } from '../argParsers'
import { DEMO_SAMPLE_PER_PAIR } from '@common/methods/audit'

export function registerDemo(program: Command, run: CommandContext): void {
  program
    .command('demo')
    .description('Build the demo project: street scenes, the bundled model, predictions, segments and a context audit of riders and persons')
    .option('--project <file>', 'the demo project file (default: projects/demo.ctxlens in the app home, as the desktop app)', pathArg)
    .option('--model <dir>', 'model folder (default: resources/demo-model)', pathArg)
    .option('--images <n>', 'test images to generate', intInRange(1, 10_000), 300)
    .option('--sample-per-pair <n>', `audit at most n segments per (GT, predicted) class pair (default: ${DEMO_SAMPLE_PER_PAIR}, as the desktop app)`, positiveInt)
    .option('--sample <n>', 'audit at most n segments in all', positiveInt)
    .option('--steps <n>', 'saliency optimisation steps (default: the preset)', positiveInt)
    .option('--rebuild', 'delete the demo project and build it again (an existing demo is otherwise reused when its settings match, refused when not)')
    .option('--no-progress', 'no progress bars')
    .option('--json', 'print the result as JSON')
    .action((opts: { project?: string; model?: string; images: number; samplePerPair?: number; sample?: number; steps?: number; rebuild?: boolean; progress: boolean; json?: boolean }) =>
      run(opts, async (session) => {
        const result = await withProgress(session, opts.progress && !opts.json, () =>
          session.call('audit:demo', {
            images: opts.images,
            ...(opts.samplePerPair ? { samplePerPair: opts.samplePerPair } : {}),
            ...(opts.rebuild ? { rebuild: true } : {}),
            ...(opts.project ? { projectPath: opts.project } : {}),
            ...(opts.model ? { modelDir: opts.model } : {}),
            ...(opts.sample ? { sampleSize: opts.sample } : {}),
            ...(opts.steps ? { params: { steps: opts.steps } } : {})
          })
        )
        if (opts.json) return printJson(result)
        if (result.reused) {
          console.log(`Reused the demo audit (job ${result.job.id}) built before with these settings; --rebuild builds it again.\n`)
        }
        console.log(table([['Project', result.projectPath], ['Dataset', `#${result.datasetId} ${result.datasetDir}`], ['Model', `#${result.modelId}`]]))
        console.log('')
        printConfusion(result.predict)
        console.log('')
        printJob(result.job)
        console.log(`\nStatistics: ctxlens stats --project ${result.projectPath}`)
      })
    )
}
