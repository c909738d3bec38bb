import { Command, Option } from 'commander'
import { BIAS_STRENGTHS, TEXTURE_COUNT, TILE_LAYOUTS } from '@common/textureMnist'
import { intInRange, pathArg } from '../argParsers'
import { printJson, table } from '../output'
import type { CommandContext } from '../program'
import { withProgress } from '../progress'

const count = intInRange(0, 1_000_000)
const seed = intInRange(0, 0xffffffff)

export function registerDataset(program: Command, run: CommandContext): void {
  const dataset = program.command('dataset').description('Generate datasets')

  dataset
    .command('texture-mnist')
    .description("Generate the paper's texture-MNIST context-bias benchmark set (64×64, digits 0–9 + background = 10)")
    .requiredOption('--out <dir>', 'output folder (must be empty or absent)', pathArg)
    .option('--train <n>', 'training images', count, 6000)
    .option('--test <n>', 'test images', count, 1000)
    .addOption(new Option('--bias <strength>', 'context bias to plant').choices([...BIAS_STRENGTHS]).default('none'))
    .option('--biased-digit <d>', 'the digit coupled with the bias texture (0–9)', intInRange(0, 9))
    .option('--bias-texture <t>', 'the bias texture id (0–24; the paper-style bias textures are 3, 7, 10, 14, 18)', intInRange(0, TEXTURE_COUNT - 1))
    .option('--seed <n>', 'dataset seed', seed, 0)
    .option('--test-seed <n>', 'fix the test split across dataset seeds', seed)
    .addOption(new Option('--layout <layout>', 'background tiles').choices([...TILE_LAYOUTS]).default('halves'))
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the summary as JSON')
    .action(
      (opts: {
        out: string
        train: number
        test: number
        bias: string
        biasedDigit?: number
        biasTexture?: number
        seed: number
        testSeed?: number
        layout: string
        progress: boolean
        json?: boolean
      }) =>
        run(opts, async (session) => {
          const summary = await withProgress(session, opts.progress && !opts.json, () =>
            session.call('datasets:generateTextureMnist', {
              outDir: opts.out,
              trainCount: opts.train,
              testCount: opts.test,
              bias: opts.bias as 'none',
              biasedDigit: opts.biasedDigit ?? null,
              biasTexture: opts.biasTexture ?? null,
              seed: opts.seed,
              testSeed: opts.testSeed ?? null,
              layout: opts.layout as 'halves'
            })
          )
          if (opts.json) return printJson(summary)
          console.log(
            table([
              ['Dataset', summary.outDir],
              ['Train images', `${summary.counts.train} (${summary.biasedCounts.train} biased)`],
              ['Test images', `${summary.counts.test} (${summary.biasedCounts.test} biased)`],
              ['Textures', summary.contactSheet],
              ['Time', `${(summary.durationMs / 1000).toFixed(1)} s`]
            ])
          )
        })
    )
}
