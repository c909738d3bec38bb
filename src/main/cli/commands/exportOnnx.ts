import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
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
    .option('--json', 'print the summary as JSON')
    .action((opts: { model: string; out: string; fixedBatch?: boolean; json?: boolean }) =>
      // The export needs no project and no backend choice: it only reads weights.
      run(opts, async () => {
        // Loaded on use: the ONNX protobuf code is large and no other command needs it.
        const { exportModelFolderToFile } = await import('../../engine/export/exportModelFolder')
        const out = resolve(opts.out)
        const r = await exportModelFolderToFile(opts.model, out, { batchDim: opts.fixedBatch ? null : 'batch' })
        const size = (await stat(out)).size
        const summary = { file: out, bytes: size, input: r.inputName, output: r.outputName, nodes: r.nodes, ops: r.ops }
        if (opts.json) return printJson(summary)
        console.log(
          table([
            ['Wrote', `${out} (${(size / 1e6).toFixed(2)} MB)`],
            ['Input', `${r.inputName} [batch, H, W, C]`],
            ['Output', `${r.outputName} [batch, H, W, classes]`],
            ['Nodes', `${r.nodes}: ${Object.entries(r.ops).map(([k, v]) => `${k} ${v}`).join(', ')}`]
          ])
        )
      })
    )
}
