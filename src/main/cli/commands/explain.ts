import { Command, Option } from 'commander'
import { AppError } from '@common/errors'
import { SALIENCY_METHODS, SALIENCY_PRESET_NAMES } from '@common/saliency'
import { nonNegativeInt, pathArg, positiveInt } from '../argParsers'
import { addModelDescriptionOptions, addSaliencyOptions, modelDescriptionFlags, saliencyParams, type DescriptionCliOptions, type SaliencyCliOptions, type SaliencyFlag } from '../optionSets'
import { printJson, table } from '../output'
import type { CommandContext } from '../program'
import { withProgress } from '../progress'

interface ExplainOptions extends SaliencyCliOptions, DescriptionCliOptions {
  model: string
  image: string
  class: number
  request?: string
  auto?: boolean
  minArea: number
  method: string
  preset: string
  params?: string
  out: string
  progress: boolean
  json?: boolean
}

const SALIENCY_OVERRIDES: readonly SaliencyFlag[] = ['maskSize', 'steps', 'lr', 'momentum', 'lambda', 'init', 'optimizer', 'baseline', 'samples', 'sigma', 'seed']

/** --params goes last, so a parameter given both ways takes its JSON value. */
function parameterOverrides(o: ExplainOptions): Record<string, unknown> {
  const p = saliencyParams(SALIENCY_OVERRIDES, o.method, o)
  if (o.params) {
    try {
      Object.assign(p, JSON.parse(o.params))
    } catch {
      throw new AppError('INVALID_PARAMETERS', '--params must be a JSON object')
    }
  }
  return p
}

export function registerExplain(program: Command, run: CommandContext): void {
  const command = program
    .command('explain')
    .description('Explain which context a model used for a segment of one image (grid/context saliency, VG, IG, SG)')
    .requiredOption('--model <file|dir>', 'an .onnx file or a tfjs model folder; described by the flags below unless already described', pathArg)
    .requiredOption('--image <file>', 'image file, at the model input size', pathArg)
    .requiredOption('--class <id>', 'class id to explain', nonNegativeInt)
    .option('--request <mask.png>', 'request mask R: non-zero pixels mark the segment', pathArg)
    .option('--auto', 'explain every predicted segment of the class')
    .option('--min-area <px>', 'with --auto: smallest segment to explain', positiveInt, 1)
    .addOption(new Option('--method <method>', 'saliency method').choices([...SALIENCY_METHODS]).default('context'))
    .addOption(new Option('--preset <preset>', "the paper's settings to start from").choices([...SALIENCY_PRESET_NAMES]).default('synthetic'))
  addModelDescriptionOptions(command)
  addSaliencyOptions(command, SALIENCY_OVERRIDES)
    .option('--params <json>', 'further parameters as JSON, e.g. \'{"earlyStop":{"enabled":true}}\'')
    .requiredOption('--out <dir>', 'output folder', pathArg)
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the summary as JSON')
    .action((opts: ExplainOptions) =>
      run(opts, async (session) => {
        if (Boolean(opts.request) === Boolean(opts.auto)) throw new AppError('INVALID_PARAMETERS', 'give exactly one of --request MASK.png or --auto')
        const results = await withProgress(session, opts.progress && !opts.json, () =>
          session.call('explain:image', {
            modelDir: opts.model,
            ...(Object.keys(modelDescriptionFlags(opts)).length ? { description: modelDescriptionFlags(opts) } : {}),
            imagePath: opts.image,
            classId: opts.class,
            request: opts.request ? { kind: 'file', path: opts.request } : { kind: 'auto', minArea: opts.minArea },
            method: opts.method as 'context',
            preset: opts.preset as 'synthetic',
            params: parameterOverrides(opts),
            outDir: opts.out
          })
        )
        if (opts.json) return printJson(results)
        const fmt = (v: unknown): string => (typeof v === 'number' ? v.toFixed(4) : v === null || v === undefined ? '-' : String(v))
        console.log(
          table([
            ['request', 'area', 'score', 'perturbed', 'preservation', '‖M‖₁', 'recovered', 'faithfulness', 'time', 'overlay'],
            ...results.map((r) => [
              r.name,
              r.area,
              fmt(r.summary.scoreOriginal),
              fmt(r.summary.scorePerturbed),
              fmt(r.summary.preservation),
              fmt(r.summary.maskL1),
              fmt(r.summary.recovered),
              fmt((r.summary.faithfulness as { value?: number | null } | undefined)?.value),
              `${((r.summary.timeMs as number) / 1000).toFixed(2)} s`,
              r.files.overlayPng
            ])
          ])
        )
      })
    )
}
