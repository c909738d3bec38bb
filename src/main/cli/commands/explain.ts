import { Command, InvalidArgumentError, Option } from 'commander'
import { AppError } from '@common/errors'
import { SALIENCY_METHODS, SALIENCY_PRESET_NAMES } from '@common/saliency'
import { maskSize, number } from '../argParsers'
import { printJson, table } from '../output'
import type { CommandContext } from '../program'
import { withProgress } from '../progress'


/** constant:V | constant:R,G,B | blur:SIGMA | noise:SEED */
const baseline = (value: string): Record<string, unknown> => {
  const [kind, arg = ''] = value.split(':')
  if (kind === 'constant') {
    const values = arg === '' ? [0] : arg.split(',').map(number)
    return { kind, value: values.length === 1 ? values[0] : values }
  }
  if (kind === 'blur') return { kind, sigma: arg === '' ? 5 : number(arg) }
  if (kind === 'noise') return { kind, seed: arg === '' ? 0 : number(arg) }
  throw new InvalidArgumentError(`"${value}": use constant:V, constant:R,G,B, blur:SIGMA or noise:SEED`)
}

interface ExplainOptions {
  model: string
  image: string
  class: number
  request?: string
  auto?: boolean
  minArea: number
  method: string
  preset: string
  maskSize?: [number, number]
  steps?: number
  lr?: number
  momentum?: number
  lambda?: number
  init?: number
  optimizer?: string
  baseline?: Record<string, unknown>
  noClip?: boolean
  samples?: number
  sigma?: number
  seed?: number
  params?: string
  out: string
  progress: boolean
  json?: boolean
}

/** The flags that map onto saliency parameters; the schema (not this command) decides what is valid per method. */
function parameterOverrides(o: ExplainOptions): Record<string, unknown> {
  const p: Record<string, unknown> = {}
  const perturbation = o.method === 'grid' || o.method === 'context'
  if (o.maskSize) {
    if (perturbation) [p.maskHeight, p.maskWidth] = o.maskSize
    else [p.saliencyHeight, p.saliencyWidth] = o.maskSize
  }
  if (o.steps !== undefined) p.steps = o.steps
  if (o.lr !== undefined) p.learningRate = o.lr
  if (o.momentum !== undefined) p.momentum = o.momentum
  if (o.lambda !== undefined) p.lambda = o.lambda
  if (o.init !== undefined) p.init = o.init
  if (o.optimizer !== undefined) p.optimizer = o.optimizer
  if (o.baseline !== undefined) p.baseline = o.baseline
  if (o.samples !== undefined) p.samples = o.samples
  if (o.sigma !== undefined) p.sigma = o.sigma
  if (o.seed !== undefined) p.seed = o.seed
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
  program
    .command('explain')
    .description('Explain which context a model used for a segment of one image (grid/context saliency, VG, IG, SG)')
    .requiredOption('--model <dir>', 'model folder (tfjs model.json + ctxlens.model.json)')
    .requiredOption('--image <file>', 'image file, at the model input size')
    .requiredOption('--class <id>', 'class id to explain', number)
    .option('--request <mask.png>', 'request mask R: non-zero pixels mark the segment')
    .option('--auto', 'explain every predicted segment of the class')
    .option('--min-area <px>', 'with --auto: smallest segment to explain', number, 1)
    .addOption(new Option('--method <method>', 'saliency method').choices([...SALIENCY_METHODS]).default('context'))
    .addOption(new Option('--preset <preset>', "the paper's settings to start from").choices([...SALIENCY_PRESET_NAMES]).default('synthetic'))
    .option('--mask-size <HxW>', 'saliency resolution, e.g. 4x4 (paper, synthetic) or 16x32 (paper, Cityscapes)', maskSize)
    .option('--steps <n>', 'optimisation steps (grid/context) or integration steps (ig)', number)
    .option('--lr <x>', 'learning rate', number)
    .option('--momentum <x>', 'SGD momentum', number)
    .option('--lambda <x>', 'mask sparsity weight λ', number)
    .option('--init <x>', 'initial mask value', number)
    .addOption(new Option('--optimizer <name>', 'mask optimiser').choices(['sgd', 'adam']))
    .option('--baseline <spec>', 'constant:V, constant:R,G,B, blur:SIGMA or noise:SEED', baseline)
    .option('--samples <n>', 'SmoothGrad samples', number)
    .option('--sigma <x>', 'SmoothGrad noise σ (input units)', number)
    .option('--seed <n>', 'SmoothGrad seed', number)
    .option('--params <json>', 'further parameters as JSON, e.g. \'{"earlyStop":{"enabled":true}}\'')
    .requiredOption('--out <dir>', 'output folder')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the summary as JSON')
    .action((opts: ExplainOptions) =>
      run(opts, async (session) => {
        if (Boolean(opts.request) === Boolean(opts.auto)) throw new AppError('INVALID_PARAMETERS', 'give exactly one of --request MASK.png or --auto')
        const results = await withProgress(session, opts.progress && !opts.json, () =>
          session.call('explain:image', {
            modelDir: opts.model,
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
            ['request', 'area', 'score', 'perturbed', 'preservation', '‖M‖₁', 'recovered', 'time', 'overlay'],
            ...results.map((r) => [
              r.name,
              r.area,
              fmt(r.summary.scoreOriginal),
              fmt(r.summary.scorePerturbed),
              fmt(r.summary.preservation),
              fmt(r.summary.maskL1),
              fmt(r.summary.recovered),
              `${((r.summary.timeMs as number) / 1000).toFixed(2)} s`,
              r.files.overlayPng
            ])
          ])
        )
      })
    )
}
