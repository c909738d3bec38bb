import { Command, InvalidArgumentError, Option } from 'commander'
import { SEGMENT_KINDS_EXTRACTED } from '@common/datasets'
import { SALIENCY_METHODS, SALIENCY_PRESET_NAMES } from '@common/saliency'
import type { JobSummary } from '@common/types'
import { describeMapping } from '@common/classMapping'
import { addClassMapOption, classMapFrom } from '../classMapOption'
import { printJson, table } from '../output'
import type { CommandContext } from '../program'
import { resolveModel } from './predict'
import { integer, intInRange, modelRef, pathArg, positiveInt } from '../argParsers'
import { addModelDescriptionOptions, addSaliencyOptions, modelDescriptionFlags, saliencyParams, type DescriptionCliOptions, type SaliencyCliOptions, type SaliencyFlag } from '../optionSets'
import { withProgress } from '../progress'

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

/** key=value pairs; values are JSON when they parse as JSON (numbers, booleans, objects), else strings. */
export function parseParams(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const pair of pairs) {
    const i = pair.indexOf('=')
    if (i <= 0) throw new InvalidArgumentError(`"${pair}" is not key=value`)
    const raw = pair.slice(i + 1)
    try {
      out[pair.slice(0, i)] = JSON.parse(raw)
    } catch {
      out[pair.slice(0, i)] = raw
    }
  }
  return out
}

export function printJob(job: JobSummary): void {
  console.log(
    table([
      ['Job', `#${job.id} (${job.kind})`],
      ['State', job.state],
      ['Done', `${job.done} of ${job.total}`],
      ['Failed', job.failed],
      ...(job.error ? [['Error', job.error]] : [])
    ])
  )
}

// Not --seed: here it draws the segment sample.
const SALIENCY_OVERRIDES = ['maskSize', 'steps', 'lambda', 'lr'] as const satisfies readonly SaliencyFlag[]

interface AuditCliOptions extends Pick<SaliencyCliOptions, (typeof SALIENCY_OVERRIDES)[number]>, Omit<DescriptionCliOptions, 'classes'> {
  project: string
  dataset?: number
  model?: string
  split?: string
  method: string
  preset: string
  param?: string[]
  classes?: string
  kinds: string
  minArea: number
  sample?: number
  samplePerPair?: number
  seed: number
  batchSize: number
  classMap?: Parameters<typeof classMapFrom>[0]
  resume?: number
  cancel?: number
  progress: boolean
  json?: boolean
}

export function registerAudit(program: Command, run: CommandContext): void {
  const command = program
    .command('audit')
    .description('Explain the context of every selected segment of a dataset (a resumable job), or resume or cancel one')
    .requiredOption('--project <file>', 'the project file', pathArg)
    .option('--dataset <id>', 'dataset id', positiveInt)
    .option('--model <id|file|dir>', 'model id, or an .onnx file or tfjs folder to register', modelRef)
  // --classes picks segment classes here, so the model's class list is --model-classes.
  addClassMapOption(addModelDescriptionOptions(command, { classesFlag: '--model-classes' }))
    .option('--split <name>', 'only segments of images of this split')
    .addOption(new Option('--method <m>', 'saliency method').choices([...SALIENCY_METHODS]).default('context'))
    .addOption(new Option('--preset <p>', 'parameter preset').choices([...SALIENCY_PRESET_NAMES]).default('cityscapes'))
  addSaliencyOptions(command, SALIENCY_OVERRIDES, {
    maskSize: 'mask (or saliency map) resolution, e.g. 8x16',
    steps: 'optimisation steps',
    lambda: 'mask L1 weight'
  })
    .option('--param <key=value>', 'any other saliency parameter (repeatable; JSON values)', collect)
    .option('--classes <list>', 'segment classes, ids or names, comma-separated (default all)')
    .option('--kinds <list>', `segment kinds (${SEGMENT_KINDS_EXTRACTED.join(', ')})`, 'correct,misclassified')
    .option('--min-area <px>', 'minimum segment area in pixels', positiveInt, 1)
    .option('--sample <n>', 'at most n segments, drawn with --seed', positiveInt)
    .option('--sample-per-pair <n>', 'at most n segments per (GT class, predicted class) pair, drawn with --seed', positiveInt)
    .option('--seed <n>', 'sampling seed', integer, 0)
    .option('--batch-size <n>', 'requests per engine call', intInRange(1, 256), 8)
    .option('--resume <job>', 'continue a paused or interrupted job', positiveInt)
    .option('--cancel <job>', 'cancel a job for good', positiveInt)
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the final job as JSON')
    .action((opts: AuditCliOptions) =>
      run(opts, async (session) => {
        await session.openProject(opts.project)
        const bar = opts.progress && !opts.json
        let job: JobSummary
        if (opts.cancel) job = await session.call('audit:cancel', { jobId: opts.cancel })
        else if (opts.resume) job = await withProgress(session, bar, () => session.call('audit:resume', { jobId: opts.resume!, wait: true }))
        else {
          if (!opts.dataset || !opts.model) throw new InvalidArgumentError('--dataset and --model are required to start an audit (or give --resume JOB)')
          const classMap = classMapFrom(opts.classMap)
          const modelId = await resolveModel(session, opts.model, modelDescriptionFlags({ ...opts, classes: undefined }))
          // The named flags win over the same parameter given with --param.
          const params = { ...parseParams(opts.param ?? []), ...saliencyParams(SALIENCY_OVERRIDES, opts.method, opts) }
          let classes: number[] | undefined
          if (opts.classes) {
            const known = await session.call('images:classes', { datasetId: opts.dataset })
            classes = opts.classes.split(',').map((c) => {
              const t = c.trim()
              if (/^\d+$/.test(t)) return Number(t)
              const hit = known.find((k) => k.name.toLowerCase() === t.toLowerCase())
              if (!hit) throw new InvalidArgumentError(`unknown class "${t}" (known: ${known.map((k) => k.name).join(', ')})`)
              return hit.id
            })
          }
          job = await withProgress(session, bar, () =>
            session.call('audit:start', {
              datasetId: opts.dataset!,
              modelId,
              method: opts.method as 'context',
              preset: opts.preset as 'cityscapes',
              params,
              segments: {
                kinds: opts.kinds.split(',').map((k) => k.trim()) as ('correct' | 'misclassified')[],
                minArea: opts.minArea,
                seed: opts.seed,
                ...(classes ? { classes } : {}),
                ...(opts.sample ? { sampleSize: opts.sample } : {}),
                ...(opts.samplePerPair ? { samplePerPair: opts.samplePerPair } : {})
              },
              batchSize: opts.batchSize,
              wait: true,
              ...(opts.split ? { split: opts.split } : {}),
              ...(classMap ? { classMap } : {})
            })
          )
        }
        if (opts.json) return printJson(job)
        const { classMapping } = (await session.call('audit:job', { jobId: job.id })).params as { classMapping?: Parameters<typeof describeMapping>[0] | null }
        if (classMapping && describeMapping(classMapping)) console.log(`${describeMapping(classMapping)}.\n`)
        printJob(job)
        if (job.state === 'paused' || job.state === 'interrupted') console.log(`\nResume with: ctxlens audit --project ${opts.project} --resume ${job.id}`)
        if (job.failed > 0) {
          const detail = await session.call('audit:job', { jobId: job.id })
          console.log('\nFailed items:')
          for (const f of detail.failures.slice(0, 20)) console.log(`  ${f.itemKey}: [${f.code}] ${f.message}`)
        }
      })
    )
}
