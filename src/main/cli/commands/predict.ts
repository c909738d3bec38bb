import { Command } from 'commander'
import type { ConfusionReport } from '@common/audit'
import { printJson, table } from '../output'
import type { CommandContext } from '../program'
import type { CliSession } from '../session'
import { withProgress } from '../progress'
import { intInRange, modelRef, pathArg, positiveInt } from '../argParsers'
import type { DescriptionFlags } from '@common/modelDescription'
import { addModelDescriptionOptions, modelDescriptionFlags, type DescriptionCliOptions } from '../optionSets'
import { describeMapping } from '@common/classMapping'
import { addClassMapOption, classMapFrom } from '../classMapOption'

/** A model id, or a model file or folder that is registered first (described by the flags if given). */
export async function resolveModel(session: CliSession, model: string, flags: DescriptionFlags = {}): Promise<number> {
  if (/^\d+$/.test(model)) return Number(model)
  return (await session.call('models:add', { dir: model, ...(Object.keys(flags).length ? { description: flags } : {}) })).id
}

const pct = (v: number | null): string => (v === null ? '-' : `${(100 * v).toFixed(1)}%`)

export function printConfusion(r: ConfusionReport): void {
  console.log(table([['Class', 'IoU', 'GT px', 'Pred px'], ...r.perClass.map((c) => [c.name, pct(c.iou), c.gtPixels, c.predPixels])]))
  console.log(`\nmIoU ${pct(r.meanIoU)}   pixel accuracy ${pct(r.pixelAccuracy)}   (${r.images} labelled images)`)
  const names = r.perClass.map((c) => c.name.slice(0, 8))
  console.log('\nConfusion (rows: ground truth, columns: prediction)')
  console.log(table([['', ...names], ...r.matrix.map((row, i) => [names[i], ...row.map(String)])]))
}

export function registerPredict(program: Command, run: CommandContext): void {
  const command = program
    .command('predict')
    .description('Run a model over a dataset: label maps and confidences stored, segments extracted, confusion matrix and IoU')
    .requiredOption('--project <file>', 'the project file', pathArg)
    .requiredOption('--dataset <id>', 'dataset id', positiveInt)
    .requiredOption('--model <id|file|dir>', 'model id, or an .onnx file or tfjs folder to register', modelRef)
  addClassMapOption(addModelDescriptionOptions(command))
    .option('--split <name>', 'only this split')
    .option('--batch-size <n>', 'images per engine task', intInRange(1, 256), 8)
    .option('--no-segments', 'do not extract segments')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the report as JSON')
    .action((opts: DescriptionCliOptions & { project: string; dataset: number; model: string; split?: string; batchSize: number; segments: boolean; progress: boolean; json?: boolean; classMap?: Parameters<typeof classMapFrom>[0] }) =>
      run(opts, async (session) => {
        const classMap = classMapFrom(opts.classMap)
        await session.openProject(opts.project)
        const modelId = await resolveModel(session, opts.model, modelDescriptionFlags(opts))
        const report = await withProgress(session, opts.progress && !opts.json, () =>
          session.call('audit:predict', {
            datasetId: opts.dataset,
            modelId,
            batchSize: opts.batchSize,
            extractSegments: opts.segments,
            ...(opts.split ? { split: opts.split } : {}),
            ...(classMap ? { classMap } : {})
          })
        )
        if (opts.json) return printJson(report)
        const mapping = report.classMapping ? describeMapping(report.classMapping) : ''
        if (mapping) console.log(`${mapping}.`)
        console.log(`Predicted ${report.predicted} images with model #${modelId} in ${(report.durationMs / 1000).toFixed(1)} s`)
        if (Object.keys(report.segments).length) console.log(`Segments: ${Object.entries(report.segments).map(([k, n]) => `${k} ${n}`).join(', ')}`)
        for (const f of report.failed) console.log(`  failed image ${f.imageId}: [${f.code}] ${f.message}`)
        console.log('')
        printConfusion(report)
      })
    )
}
