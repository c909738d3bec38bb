import { Command, InvalidArgumentError, Option } from 'commander'
import type { StatsOptionsInput } from '@common/audit'
import { CLASS_PRESET_NAMES, LAYOUTS, OUTPUT_KINDS, parseInputSize, parseNormalisation, type DescriptionFlags } from '@common/modelDescription'
import { classesRef, integer, intInRange, maskSize, nonNegativeNumber, number, numberAtLeast, numberInRange, positiveInt, positiveNumber } from './argParsers'

/**
 * Option sets more than one command takes. Each comes as a pair, one adding the flags and one mapping their parsed
 * values onto the request, so the commands cannot drift apart in what a flag means.
 */

// ---- context statistics: `stats` and `report` -------------------------------------------------------------

export interface StatsCliOptions {
  radius: number
  context: 'outside-object' | 'outside-request'
  bootstrap: number
  seed: number
  margin: number
  densityRatio: number
  minExplanations: number
  minImages: number
  includeUnrecovered?: boolean
  sameClassAlerts?: boolean
}

export function addStatsOptions(command: Command): Command {
  return command
    .option('--radius <px>', 'contour-baseline dilation radius', intInRange(1, 256), 4)
    .addOption(
      new Option('--context <what>', "outside-object: leave the rest of each requested object out of its context; outside-request: the paper's C = 1 − R")
        .choices(['outside-object', 'outside-request'])
        .default('outside-object')
    )
    .option('--bootstrap <n>', 'bootstrap resamples', intInRange(10, 100_000), 1000)
    .option('--seed <n>', 'bootstrap seed', integer, 0)
    .option('--margin <x>', 'share − baseline margin for alerts', nonNegativeNumber, 0.05)
    .option('--density-ratio <x>', 'density ratio threshold for alerts', numberAtLeast(1), 3)
    .option('--min-explanations <n>', 'fewest explanations behind an alert; fewer: listed as insufficient evidence', positiveInt, 20)
    .option('--min-images <n>', 'fewest distinct images behind an alert; fewer: listed as insufficient evidence', positiveInt, 3)
    .option('--include-unrecovered', "also count explanations whose perturbed image did not give back the model's score")
    .option('--same-class-alerts', 'also raise alerts of a class on other objects of its own class')
}

export function statsInput(o: StatsCliOptions): Pick<StatsOptionsInput, 'contourRadius' | 'context' | 'includeUnrecovered' | 'bootstrap' | 'alerts'> {
  return {
    contourRadius: o.radius,
    context: o.context,
    includeUnrecovered: o.includeUnrecovered === true,
    bootstrap: { samples: o.bootstrap, seed: o.seed },
    alerts: { shareMargin: o.margin, densityRatio: o.densityRatio, minExplanations: o.minExplanations, minImages: o.minImages, sameClass: o.sameClassAlerts === true }
  }
}

// ---- saliency parameter overrides: `explain` and `audit` --------------------------------------------------

/** constant:V | constant:R,G,B | blur:SIGMA | noise:SEED */
export const baseline = (value: string): Record<string, unknown> => {
  const [kind, arg = ''] = value.split(':')
  if (kind === 'constant') {
    const values = arg === '' ? [0] : arg.split(',').map(number)
    return { kind, value: values.length === 1 ? values[0] : values }
  }
  if (kind === 'blur') return { kind, sigma: arg === '' ? 5 : positiveNumber(arg) }
  if (kind === 'noise') return { kind, seed: arg === '' ? 0 : integer(arg) }
  throw new InvalidArgumentError(`"${value}": use constant:V, constant:R,G,B, blur:SIGMA or noise:SEED`)
}

export interface SaliencyCliOptions {
  maskSize?: [number, number]
  steps?: number
  lr?: number
  momentum?: number
  lambda?: number
  init?: number
  optimizer?: string
  baseline?: Record<string, unknown>
  samples?: number
  sigma?: number
  seed?: number
}
export type SaliencyFlag = keyof SaliencyCliOptions

interface FlagSpec {
  flags: string
  description: string
  parse?: (value: string) => unknown
  choices?: string[]
  /** The saliency parameter the flag sets, when it is not named as the flag. */
  param?: string
}

// Keyed by commander's attribute name of each flag, so parsed options index it directly.
const SALIENCY_FLAGS: Record<SaliencyFlag, FlagSpec> = {
  maskSize: { flags: '--mask-size <HxW>', description: 'saliency resolution, e.g. 4x4 (paper, synthetic) or 16x32 (paper, Cityscapes)', parse: maskSize },
  steps: { flags: '--steps <n>', description: 'optimisation steps (grid/context) or integration steps (ig)', parse: positiveInt },
  lr: { flags: '--lr <x>', description: 'learning rate', parse: positiveNumber, param: 'learningRate' },
  momentum: { flags: '--momentum <x>', description: 'SGD momentum', parse: numberInRange(0, 0.999) },
  lambda: { flags: '--lambda <x>', description: 'mask sparsity weight λ', parse: nonNegativeNumber },
  init: { flags: '--init <x>', description: 'initial mask value', parse: numberInRange(0, 1) },
  optimizer: { flags: '--optimizer <name>', description: 'mask optimiser', choices: ['sgd', 'adam'] },
  baseline: { flags: '--baseline <spec>', description: 'constant:V, constant:R,G,B, blur:SIGMA or noise:SEED', parse: baseline },
  samples: { flags: '--samples <n>', description: 'SmoothGrad samples', parse: positiveInt },
  sigma: { flags: '--sigma <x>', description: 'SmoothGrad noise σ (input units)', parse: nonNegativeNumber },
  seed: { flags: '--seed <n>', description: 'SmoothGrad seed', parse: integer }
}

/**
 * Adds the saliency-parameter flags `flags`, in that order. A command takes a subset because some names mean
 * something else there (audit's --seed draws the sample); `descriptions` keeps a command's own wording.
 */
export function addSaliencyOptions(command: Command, flags: readonly SaliencyFlag[], descriptions: Partial<Record<SaliencyFlag, string>> = {}): Command {
  for (const name of flags) {
    const spec = SALIENCY_FLAGS[name]
    const option = new Option(spec.flags, descriptions[name] ?? spec.description)
    if (spec.choices) option.choices(spec.choices)
    if (spec.parse) option.argParser(spec.parse)
    command.addOption(option)
  }
  return command
}

/**
 * The saliency parameters the flags `flags` set; the schema (not the CLI) decides which ones a method takes. The mask
 * size is the perturbation mask of grid/context and the saliency map's resolution of the gradient methods.
 */
export function saliencyParams(flags: readonly SaliencyFlag[], method: string, o: SaliencyCliOptions): Record<string, unknown> {
  const p: Record<string, unknown> = {}
  for (const name of flags) {
    const value = o[name]
    if (value === undefined) continue
    if (name === 'maskSize') {
      const [h, w] = value as [number, number]
      if (method === 'grid' || method === 'context') [p.maskHeight, p.maskWidth] = [h, w]
      else [p.saliencyHeight, p.saliencyWidth] = [h, w]
    } else p[SALIENCY_FLAGS[name].param ?? name] = value
  }
  return p
}

// ---- model description: every command that takes --model ------------------------------------------------------

export interface DescriptionCliOptions {
  classes?: string
  modelClasses?: string
  input?: string
  normalise?: string
  output?: 'logits' | 'probabilities'
  layout?: 'NCHW' | 'NHWC'
  ignoreId?: number | null
}

/** Checks a flag value at the command line with the parser the services use, and passes the text on unchanged. */
const checkedBy =
  (parse: (value: string) => unknown) =>
  (value: string): string => {
    try {
      parse(value)
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message.replace(/^--\w+ /, ''))
    }
    return value
  }

const ignoreIdValue = (value: string): number | null => (value === 'none' ? null : intInRange(0, 65535)(value))

/**
 * The description flags of a model file: what `models describe` writes beside it and what any command taking
 * `--model` accepts, so one command can run a model file and nothing else. `classesFlag` renames --classes where a
 * command already uses it for something else (audit's --classes picks segment classes).
 */
export function addModelDescriptionOptions(command: Command, options: { classesFlag?: '--classes' | '--model-classes' } = {}): Command {
  const classesFlag = options.classesFlag ?? '--classes'
  return command
    .option(`${classesFlag} <preset|file>`, `the model's classes, output channel order: ${CLASS_PRESET_NAMES.join(', ')}, or a JSON (names or {id,name,color}) or CSV file`, classesRef)
    .option('--input <HxWxC>', 'input size, where the model file does not fix it, e.g. 512x1024x3', checkedBy(parseInputSize))
    .option('--normalise <spec>', 'pixel normalisation: range:0,1, range:-1,1, imagenet or mean:R,G,B,std:R,G,B', checkedBy(parseNormalisation))
    .addOption(new Option('--output <kind>', 'what the model outputs (default: read from a probe)').choices([...OUTPUT_KINDS]))
    .addOption(new Option('--layout <layout>', 'tensor layout (default: read from the graph input, else NCHW)').choices([...LAYOUTS]))
    .option('--ignore-id <id|none>', 'label id of unlabelled pixels (a preset brings its own)', ignoreIdValue)
}

export function modelDescriptionFlags(o: DescriptionCliOptions): DescriptionFlags {
  const flags: DescriptionFlags = {}
  const classes = o.modelClasses ?? o.classes
  if (classes !== undefined) flags.classes = classes
  if (o.input !== undefined) flags.input = o.input
  if (o.normalise !== undefined) flags.normalise = o.normalise
  if (o.output !== undefined) flags.output = o.output
  if (o.layout !== undefined) flags.layout = o.layout
  if (o.ignoreId !== undefined) flags.ignoreId = o.ignoreId
  return flags
}
