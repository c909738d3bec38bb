import { Command } from 'commander'
import type { ModelSummary } from '@common/audit'
import type { ModelCheck, ModelInspection } from '@common/modelDescription'
import { normalisationText } from '@common/modelDescription'
import type { ModelSidecar } from '@common/modelSidecar'
import { pathArg, positiveInt } from '../argParsers'
import { addModelDescriptionOptions, modelDescriptionFlags, type DescriptionCliOptions } from '../optionSets'
import { printJson, table } from '../output'
import type { CommandContext } from '../program'
import { registerExportOnnx } from './exportOnnx'

const MARK: Record<ModelCheck['status'], string> = { ok: 'ok', warning: 'note', error: 'FAIL' }

const shape = (s: (number | string | null)[] | null): string => (s ? `[${s.map((d) => (d === null ? '?' : d)).join(', ')}]` : 'unknown')

function printInspection(i: ModelInspection): void {
  console.log(
    table([
      ['File', i.path],
      ['Format', `${i.modelFormat} (runs on ${i.runtime === 'onnx' ? 'ONNX Runtime' : 'TensorFlow.js'})`],
      ['Input', `${i.inputName ?? '?'} ${shape(i.inputShape)}`],
      ['Output', `${i.outputName ?? '?'} ${shape(i.outputShape)}`],
      ['Layout', i.layout ? `${i.layout} (${i.layoutSource === 'graph' ? 'read from the input shape' : i.layoutSource === 'flag' ? 'given with --layout' : 'assumed: the input shape does not say'})` : '-'],
      ...(i.opset !== null ? [['Opset', String(i.opset)]] : []),
      ...(i.producer ? [['Producer', i.producer]] : []),
      ['Ops', i.ops.map((o) => `${o.opType}×${o.count}`).join(', ')],
      ['SHA-256', i.contentHash],
      ['Described', i.described ? 'yes (description stored beside the file)' : 'no']
    ])
  )
}

function printChecks(checks: ModelCheck[]): void {
  if (checks.length === 0) return
  console.log('\nChecks')
  console.log(table(checks.map((c) => [MARK[c.status], c.id, c.message])))
}

function printDescription(d: ModelSidecar): void {
  console.log(
    table([
      ['Name', d.name],
      ['Format', d.modelFormat],
      ['Input', `${d.input.height}×${d.input.width}×${d.input.channels}${d.layout ? `, ${d.layout}` : ''}`],
      ['Normalise', normalisationText(d.normalisation)],
      ['Output', `${d.output ?? 'probabilities'}${d.outputStride && d.outputStride > 1 ? `, 1/${d.outputStride} resolution (upsampled)` : ''}`],
      ['Classes', `${d.classes.length}: ${d.classes.map((c) => `${c.id} ${c.name}`).join(', ')}`],
      ['Ignore id', d.ignoreId === null ? 'none' : String(d.ignoreId)],
      ['SHA-256', d.contentHash]
    ])
  )
}

function printSummary(m: ModelSummary): void {
  console.log(
    table([
      ['Model', `${m.name} (#${m.id})`],
      ['Format', m.modelFormat ?? '-'],
      ['Architecture', m.architecture],
      ['Input', `${m.input.height}×${m.input.width}×${m.input.channels}`],
      ['Classes', m.classes.map((c) => `${c.id} ${c.name}`).join(', ')],
      ['Location', m.dir]
    ])
  )
}

type WithModel = DescriptionCliOptions & { model: string; json?: boolean }

export function registerModels(program: Command, run: CommandContext): void {
  const models = program.command('models').description('Your own models: inspect, describe, and register them in a project')

  addModelDescriptionOptions(
    models
      .command('inspect')
      .description('Show what a model file holds (input, output, layout, ops) and run the import checks; stores nothing')
      .requiredOption('--model <file|dir>', 'an .onnx file or a tfjs model folder', pathArg)
  )
    .option('--json', 'print the inspection as JSON')
    .action((opts: WithModel) =>
      run(opts, async (session) => {
        const r = await session.call('models:inspect', { path: opts.model, description: modelDescriptionFlags(opts) })
        if (opts.json) return printJson(r)
        printInspection(r.inspection)
        printChecks(r.checks)
        if (r.missing.length > 0) console.log(`\nTo describe it, give ${r.missing.map((m) => `--${m}`).join(', ')}`)
      })
    )

  addModelDescriptionOptions(
    models
      .command('describe')
      .description('Describe a model once: writes <file>.onnx.ctxlens.json (or the folder\'s ctxlens.model.json) with its hash, after the checks')
      .requiredOption('--model <file|dir>', 'an .onnx file or a tfjs model folder', pathArg)
  )
    .option('--name <name>', 'display name (default: the file name)')
    .option('--json', 'print the description as JSON')
    .action((opts: WithModel & { name?: string }) =>
      run(opts, async (session) => {
        const r = await session.call('models:describe', { path: opts.model, description: { ...modelDescriptionFlags(opts), ...(opts.name ? { name: opts.name } : {}) } })
        if (opts.json) return printJson(r)
        printDescription(r.description)
        printChecks(r.checks)
        console.log(`\nWrote ${r.descriptionPath}`)
      })
    )

  addModelDescriptionOptions(
    models
      .command('add')
      .description('Register a model in a project: an .onnx file or a tfjs folder, described with the flags unless already described')
      .requiredOption('--project <file>', 'the project file', pathArg)
      .requiredOption('--model <file|dir>', 'an .onnx file or a tfjs model folder', pathArg)
  )
    .option('--name <name>', 'display name (default: the description\'s name)')
    .option('--json', 'print the model as JSON')
    .action((opts: WithModel & { project: string; name?: string }) =>
      run(opts, async (session) => {
        await session.openProject(opts.project)
        const flags = modelDescriptionFlags(opts)
        const m = await session.call('models:add', { dir: opts.model, ...(opts.name ? { name: opts.name } : {}), ...(Object.keys(flags).length ? { description: flags } : {}) })
        if (opts.json) return printJson(m)
        printSummary(m)
      })
    )

  models
    .command('list')
    .description('The models registered in a project')
    .requiredOption('--project <file>', 'the project file', pathArg)
    .option('--json', 'print the models as JSON')
    .action((opts: { project: string; json?: boolean }) =>
      run(opts, async (session) => {
        await session.openProject(opts.project)
        const list = await session.call('models:list', {})
        if (opts.json) return printJson(list)
        if (list.length === 0) return console.log('No models registered: add one with `ctxlens models add --project P --model FILE.onnx --classes … --normalise …`')
        console.log(
          table([
            ['id', 'name', 'format', 'input', 'classes', 'normalise', 'predictions', 'location'],
            ...list.map((m) => [
              m.id,
              m.name,
              m.modelFormat ?? '(unreadable)',
              m.input ? `${m.input.height}×${m.input.width}×${m.input.channels}` : '-',
              m.classes.length,
              m.normalisation ?? '-',
              m.predictions,
              m.dir
            ])
          ])
        )
      })
    )

  models
    .command('show')
    .description('One registered model with its description')
    .requiredOption('--project <file>', 'the project file', pathArg)
    .requiredOption('--model <id>', 'model id', positiveInt)
    .option('--json', 'print the model as JSON')
    .action((opts: { project: string; model: number; json?: boolean }) =>
      run(opts, async (session) => {
        await session.openProject(opts.project)
        const r = await session.call('models:show', { modelId: opts.model })
        if (opts.json) return printJson(r)
        console.log(table([['Model', `${r.model.name} (#${r.model.id})`], ['Location', r.model.dir], ['Predictions', String(r.predictions)]]))
        console.log('')
        if (r.description) printDescription(r.description)
        else console.log(`The description cannot be read: ${r.descriptionError}`)
      })
    )

  registerExportOnnx(models, run)
}
