import type { Command } from 'commander'
import { printJson, table } from '../output'
import type { CommandContext } from '../program'
import { pathArg } from '../argParsers'

/** `models export-onnx`: writes a tfjs Layers model as ONNX, so the same weights run on ONNX Runtime. */
export function registerExportOnnx(models: Command, run: CommandContext): void {
  models
    .command('export-onnx')
    .description('Write a tfjs Layers model folder as an ONNX file (NHWC input and output, as in tfjs; batch size free)')
    .requiredOption('--model <dir>', 'the model folder (model.json + weights)', pathArg)
    .requiredOption('--out <file>', 'the .onnx file to write', pathArg)
    .option('--fixed-batch', 'fix the batch size at 1 instead of a symbolic "batch" dimension')
    .option('--force', 'replace --out if it exists')
    .option('--json', 'print the summary as JSON')
    .action((opts: { model: string; out: string; fixedBatch?: boolean; force?: boolean; json?: boolean }) =>
      // The export needs no project and no backend choice: it only reads weights.
      run(opts, async (session) => {
        const r = await session.call('models:exportOnnx', { modelDir: opts.model, path: opts.out, fixedBatch: opts.fixedBatch ?? false, overwrite: opts.force ?? false })
        if (opts.json) return printJson(r)
        console.log(
          table([
            ['Wrote', `${r.file} (${(r.bytes / 1e6).toFixed(2)} MB)`],
            ['Input', `${r.input} [batch, H, W, C]`],
            ['Output', `${r.output} [batch, H, W, classes]`],
            ['Nodes', `${r.nodes}: ${Object.entries(r.ops).map(([k, v]) => `${k} ${v}`).join(', ')}`]
          ])
        )
      })
    )
}
