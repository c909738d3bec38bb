import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import {
  BENCHMARK_METHOD_LABELS,
  type BenchmarkConfig,
  type BenchmarkMethod,
  type BenchmarkModelInfo,
  type BenchmarkPreset,
  type BenchmarkResult,
  type SanityCheck
} from '@common/benchmark'
import type { ModelSidecar } from '@common/models'
import { throwIfAborted } from '../cancellation'
import { readSidecar } from '../engine/modelFiles'
import type { EnginePool } from '../engine/pool/pool'
import { aggregateBiasMatrix, aggregateContextBias, type BiasedStrength, type ContextBiasRecord } from '../metrics'
import { UnitCache } from './cache'
import { configHash, planModels, type PlannedModel } from './config'
import { explainSet, methodParams, predictLabels, segmentationScores, type EvalUnit, type ExplainUnit } from './evaluate'
import { committedModelsRoot, findMatchingModel, missingCommittedModel, modelName, sidecarMatches, trainCommandFor } from './models'
import { resultsCsv, runStrengths, sanityMarkdown, summaryRows, summaryText } from './output'
import { runSanityCheck } from './sanityCheck'
import { explainTestSet, unbiasedTestSet, type TestImages } from './testSets'
import { trainBenchmarkModel } from './train'
import { verdictCsv, verdictMarkdown } from './verdictTables'
import { modelVerdicts } from './verdicts'
import { hashOf, trainingKey } from './trainingConfig'

const biasedStrength = (bias: 'none' | 'weak' | 'strong'): BiasedStrength | undefined => (bias === 'none' ? undefined : bias)

export interface BenchmarkProgress {
  /** Stable per phase ("3/9 explain IG · 2 (strong, t3, s0)"), so a CLI bar per phase keeps its label. */
  phase: string
  index: number
  phases: number
  done: number
  total: number
}

export interface RunBenchmarkOptions {
  pool: EnginePool
  config: BenchmarkConfig
  preset?: BenchmarkPreset | null
  /** Run folders go under this root, one per config hash. */
  outRoot: string
  /** Where committed models are looked up (default resources/benchmark-models). */
  committedRoot?: string
  signal?: AbortSignal
  onProgress?: (p: BenchmarkProgress) => void
  log?: (line: string) => void
}

interface ResolvedModel {
  params: number | null
  /** As resolved: a fine-tuned model's plan names the start's key and content hash. */
  plan: PlannedModel
  /** The entry of planModels it resolves (what the explanation pairs refer to). */
  origin: PlannedModel
  key: string
  dir: string
  sidecar: ModelSidecar
  source: 'committed' | 'trained'
}

/** The explanation sets of the run: one per distinct (bias, digit, texture) of the experiments. */
interface ExplainSetPlan {
  key: string
  bias: 'none' | 'weak' | 'strong'
  digit: number | null
  texture: number | null
}

function explainSetsFor(config: BenchmarkConfig): ExplainSetPlan[] {
  const out = new Map<string, ExplainSetPlan>()
  for (const e of config.experiments) {
    for (const d of e.biasedDigits) for (const t of e.textures) out.set(`${e.bias}-${d}-${t}`, { key: `${e.bias}-${d}-${t}`, bias: e.bias, digit: d, texture: t })
  }
  if (out.size === 0) out.set('none', { key: 'none', bias: 'none', digit: null, texture: null })
  return [...out.values()]
}

/**
 * Which models explain which sets. A biased model is explained on its own biased test set (the paper's
 * protocol). The unbiased model (row N) is explained on the same biased test sets: its CBL on the biased digit's
 * images, whose bias texture it never learned to use, is the control that says what a method's mCBL is when
 * there is no bias to find.
 */
function explainPairs(models: PlannedModel[], sets: ExplainSetPlan[]): { model: PlannedModel; set: ExplainSetPlan }[] {
  const pairs: { model: PlannedModel; set: ExplainSetPlan }[] = []
  for (const m of models) {
    const d = m.training.data
    if (d.bias === 'none') for (const s of sets) pairs.push({ model: m, set: s })
    else pairs.push({ model: m, set: sets.find((s) => s.bias === d.bias && s.digit === d.biasedDigit && s.texture === d.biasTexture)! })
  }
  return pairs
}

/** Parameter count from the training log the trainer writes beside the weights (null without one). */
async function paramsOf(dir: string): Promise<number | null> {
  try {
    const log = JSON.parse(await readFile(join(dir, 'training-log.json'), 'utf8')) as { network?: { params?: number } }
    return typeof log.network?.params === 'number' ? log.network.params : null
  } catch {
    return null
  }
}

/**
 * The phases a run of this config goes through, in the order its progress counts them: per model, its training
 * (or lookup) and its evaluation; per (model, test set), the prediction and one explanation per method; the
 * sanity check's one per method. A benchmark job has one item per phase.
 */
export function benchmarkPhaseCount(config: BenchmarkConfig): number {
  const planned = planModels(config)
  const pairs = explainPairs(planned, explainSetsFor(config))
  const methods = config.saliency.methods.length
  const sanityOn = config.sanityCheck.enabled && methods > 0
  return planned.length * 2 + pairs.length * (1 + methods) + (sanityOn ? methods : 0)
}

export function runDirFor(outRoot: string, config: BenchmarkConfig): string {
  return resolve(outRoot, `${config.name}-${configHash(config)}`)
}

export async function runBenchmark(o: RunBenchmarkOptions): Promise<BenchmarkResult> {
  const t0 = performance.now()
  const startedAt = new Date().toISOString()
  const { config, pool } = o
  const say = o.log ?? (() => undefined)
  const hash = configHash(config)
  const runDir = runDirFor(o.outRoot, config)
  await mkdir(runDir, { recursive: true })
  await writeFile(join(runDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`)
  const cache = new UnitCache(join(runDir, 'units'))
  const committedRoot = o.committedRoot ?? committedModelsRoot()
  const methods = config.saliency.methods as BenchmarkMethod[]

  const planned = planModels(config)
  const sets = explainSetsFor(config)
  const pairs = explainPairs(planned, sets)
  const sanityOn = config.sanityCheck.enabled && methods.length > 0
  const phases = benchmarkPhaseCount(config)
  let phaseIndex = 0
  const phase = (label: string) => {
    const index = ++phaseIndex
    const name = `${index}/${phases} ${label}`
    o.onProgress?.({ phase: name, index, phases, done: 0, total: 1 })
    return (done: number, total: number) => o.onProgress?.({ phase: name, index, phases, done, total })
  }
  const check = (): void => {
    throwIfAborted(o.signal, 'benchmark cancelled')
  }
  let computedUnits = 0

  // 1. Models: committed when one matches, else cached in the run folder, else trained.
  const resolved: ResolvedModel[] = []
  for (const planned0 of planned) {
    check()
    const start = planned0.fineTuneSeed === undefined ? null : resolved.find((r) => r.plan.training.data.bias === 'none' && r.plan.training.data.seed === planned0.fineTuneSeed)
    if (planned0.fineTuneSeed !== undefined && !start) throw new Error(`no unbiased model of seed ${planned0.fineTuneSeed} to fine-tune from`)
    const plan: PlannedModel = start
      ? { ...planned0, training: { ...planned0.training, train: { ...planned0.training.train, init: { trainingKey: start.key, contentHash: start.sidecar.contentHash } } } }
      : planned0
    const key = trainingKey(plan.training)
    const name = modelName(plan.training)
    const progress = phase(`model ${name}`)
    const source = config.training.source
    let found = source === 'train' ? null : await findMatchingModel(committedRoot, plan.training, config.data.valCount)
    if (found) {
      resolved.push({ plan, origin: planned0, key, dir: found.dir, sidecar: found.sidecar, source: 'committed', params: await paramsOf(found.dir) })
      say(`model ${name}: committed ${found.dir}`)
      progress(1, 1)
      continue
    }
    if (source === 'committed') throw missingCommittedModel(committedRoot, plan.training, config.data.valCount)
    // Trained models live beside the run folders, keyed by their training config, so every run under the same
    // root shares them (a subset of the sweep reuses the sweep's models); runs made before kept them inside.
    const dir = resolve(o.outRoot, 'models', `${name}-${key}`)
    let earlier: { dir: string; sidecar: ModelSidecar } | null = null
    for (const candidate of [dir, join(runDir, 'models', `${name}-${key}`)]) {
      if (!existsSync(join(candidate, 'ctxlens.model.json'))) continue
      const sidecar = await readSidecar(candidate).catch(() => null)
      if (sidecar && sidecarMatches(sidecar, plan.training, config.data.valCount)) {
        earlier = { dir: candidate, sidecar }
        break
      }
    }
    if (earlier) {
      cache.hits++
      resolved.push({ plan, origin: planned0, key, dir: earlier.dir, sidecar: earlier.sidecar, source: 'trained', params: await paramsOf(earlier.dir) })
      say(`model ${name}: trained earlier in ${earlier.dir}`)
      progress(1, 1)
      continue
    }
    say(`model ${name}: training (${trainCommandFor(name, plan.training, config.data.valCount)})`)
    const checkpointDir = resolve(o.outRoot, 'checkpoints', `${name}-${key}`)
    const { epochs } = plan.training.train
    const { sidecar } = await trainBenchmarkModel({
      pool,
      config: plan.training,
      valCount: config.data.valCount,
      name,
      outDir: dir,
      checkpointDir,
      resume: existsSync(join(checkpointDir, 'state.json')),
      ...(start ? { initFrom: start.dir } : {}),
      command: `ctxlens benchmark (run ${config.name}-${hash}); equivalent: ${trainCommandFor(name, plan.training, config.data.valCount)}`,
      signal: o.signal,
      log: say,
      onProgress: (p) => {
        if (p.kind === 'batch') progress(p.epoch * p.batches + p.batch + 1, epochs * p.batches)
      }
    })
    computedUnits++
    resolved.push({ plan, origin: planned0, key, dir, sidecar, source: 'trained', params: await paramsOf(dir) })
  }

  // 2. Segmentation quality on the unbiased test set (Fig. 4a).
  let unbiased: TestImages | null = null
  const evals = new Map<string, EvalUnit>()
  for (const m of resolved) {
    check()
    const progress = phase(`evaluate ${modelName(m.plan.training)} on the unbiased test set`)
    const unitKey = `eval-${m.key}-${hashOf({ sidecar: m.sidecar.contentHash, testSeed: config.data.testSeed, n: config.data.evalCount, layout: config.data.layout })}`
    const r = await cache.through(unitKey, async () => {
      unbiased ??= await unbiasedTestSet(config, o.signal)
      const predicted = await predictLabels(pool, m.dir, unbiased, { signal: o.signal, onProgress: progress })
      return segmentationScores(unbiased, predicted)
    })
    if (!r.cached) computedUnits++
    progress(1, 1)
    evals.set(m.key, r.value)
  }

  // 3. Explanations: per (model, test set), the predicted segments once, then each method.
  const explainUnits: { model: ResolvedModel; set: ExplainSetPlan; unit: ExplainUnit }[] = []
  const setCache = new Map<string, TestImages>()
  const pairInputs: { model: ResolvedModel; set: ExplainSetPlan; loadSet: () => Promise<TestImages>; getPredicted: () => Promise<Uint16Array> }[] = []
  for (const pair of pairs) {
    check()
    const m = resolved.find((r) => r.origin === pair.model)!
    const mname = modelName(m.plan.training)
    const setLabel = pair.set.bias === 'none' ? 'unbiased' : `${pair.set.bias} d${pair.set.digit} t${pair.set.texture}`
    const predictProgress = phase(`predict ${mname} on the ${setLabel} test set`)
    let predicted: Uint16Array | null = null
    const loadSet = async (): Promise<TestImages> => {
      let s = setCache.get(pair.set.key)
      if (!s) {
        s = await explainTestSet(config, pair.set.bias, pair.set.digit, pair.set.texture, o.signal)
        setCache.set(pair.set.key, s)
      }
      return s
    }
    const getPredicted = async (): Promise<Uint16Array> => {
      predicted ??= await predictLabels(pool, m.dir, await loadSet(), { signal: o.signal, onProgress: predictProgress })
      return predicted
    }
    predictProgress(1, 1)
    pairInputs.push({ model: m, set: pair.set, loadSet, getPredicted })
    for (const method of methods) {
      check()
      const progress = phase(`explain ${BENCHMARK_METHOD_LABELS[method]} · ${mname} on ${setLabel}`)
      const unitKey = `explain-${method}-${m.key}-${hashOf({
        sidecar: m.sidecar.contentHash,
        set: pair.set,
        testSeed: config.data.testSeed,
        perDigit: config.data.explainPerDigit,
        biasedDigitImages: config.data.explainBiasedDigit,
        minArea: config.data.minRequestArea,
        layout: config.data.layout,
        // The method's own parameters only: adding a method to the config keeps the others' units.
        params: methodParams(config, method),
        request: config.saliency.request
      })}`
      const r = await cache.through(unitKey, async () => {
        const set = await loadSet()
        say(`explain ${method}: ${mname} on ${set.description}`)
        return explainSet(pool, m, config, method, set, await getPredicted(), { signal: o.signal, onProgress: progress })
      })
      if (!r.cached) computedUnits++
      progress(1, 1)
      explainUnits.push({ model: m, set: pair.set, unit: r.value })
    }
  }

  // 4. The sanity check (Adebayo et al. 2018) on the first biased model, on the set it was explained on.
  let sanity: Omit<SanityCheck, 'files'> | null = null
  if (sanityOn) {
    const target = pairInputs.find((p) => p.model.plan.training.data.bias !== 'none') ?? pairInputs[0]
    const r = await runSanityCheck({
      pool,
      config,
      runDir,
      cache,
      methods,
      model: { key: target.model.key, row: target.model.plan.row, name: modelName(target.model.plan.training), dir: target.model.dir, sidecar: target.model.sidecar },
      setKey: target.set,
      focusDigit: target.model.plan.training.data.biasedDigit,
      loadSet: target.loadSet,
      getPredicted: target.getPredicted,
      phase,
      check,
      signal: o.signal,
      say
    })
    computedUnits += r.computed
    sanity = r.result
  }

  // 5. Aggregation as in the paper: per image, then per model, then over textures and seeds.
  const models: BenchmarkModelInfo[] = resolved.map((m) => {
    const d = m.plan.training.data
    const e = evals.get(m.key)!
    const t = m.sidecar.training as Record<string, unknown> | undefined
    const metrics = t?.metrics as Record<string, number> | undefined
    return {
      key: m.key,
      row: m.plan.row,
      bias: d.bias,
      biasedDigit: d.biasedDigit,
      texture: d.biasTexture,
      seed: d.seed,
      source: m.source,
      dir: m.dir,
      params: m.params,
      valMiou: metrics?.valMiou ?? null,
      testMiou: e.miou,
      digitIou: e.classIou.slice(0, 10)
    }
  })
  // The config decides the row blocks, so the matrices and the summary cannot disagree on them.
  const strengths = runStrengths(config)
  const iouRecords = models.flatMap((m) =>
    m.digitIou.map((v, digit) => ({ biasedDigit: m.biasedDigit, bias: biasedStrength(m.bias), digit, texture: m.texture, seed: m.seed, v }))
  )
  const iou = aggregateBiasMatrix(iouRecords, (r) => r.v, strengths)
  const methodResults = methods.map((method) => {
    const units = explainUnits.filter((u) => u.unit.method === method)
    const records: ContextBiasRecord[] = units.flatMap((u) =>
      u.unit.records.map((r) => ({
        biasedDigit: u.model.plan.training.data.biasedDigit,
        bias: biasedStrength(u.model.plan.training.data.bias),
        digit: r.digit,
        // Row N's models are grouped by the test set they were explained on, like the biased models' textures.
        texture: u.model.plan.training.data.biasTexture ?? u.set.texture,
        seed: u.model.plan.training.data.seed,
        cbd: r.cbd,
        cbl: r.cbl
      }))
    )
    const { cbd, cbl } = aggregateContextBias(records, strengths)
    return { method, label: BENCHMARK_METHOD_LABELS[method], cbd, cbl, seconds: units.reduce((a, u) => a + u.unit.seconds, 0) }
  })
  const summary = summaryRows(methodResults, config)
  const verdicts = modelVerdicts(
    models,
    explainUnits.filter((u) => u.model.plan.training.data.bias !== 'none').map((u) => ({ modelKey: u.model.key, method: u.unit.method, records: u.unit.records })),
    methods
  )
  const requests = explainUnits.reduce((a, u) => a + u.unit.records.length, 0)
  const skipped = explainUnits.reduce((a, u) => a + u.unit.skipped.length, 0)

  const files = {
    json: join(runDir, 'results.json'),
    csv: join(runDir, 'results.csv'),
    summary: join(runDir, 'summary.txt'),
    verdicts: join(runDir, 'verdicts.md'),
    verdictsCsv: join(runDir, 'verdicts.csv'),
    figures: [] as string[]
  }
  const result: BenchmarkResult = {
    name: config.name,
    preset: o.preset ?? null,
    configHash: hash,
    runDir,
    config,
    startedAt,
    finishedAt: '',
    wallSeconds: 0,
    units: { cached: cache.hits, computed: computedUnits },
    models,
    iou,
    methods: methodResults,
    summary,
    explained: { requests, skipped },
    verdicts,
    sanity: sanity && {
      ...sanity,
      files: { json: join(runDir, 'sanity-check.json'), markdown: join(runDir, 'sanity-check.md'), figures: [] }
    },
    files
  }
  // Loaded here, not at start-up: ECharts takes about a second to load, which every CLI command would pay.
  const { writeFigures } = await import('./figures')
  files.figures = await writeFigures(result, join(runDir, 'figures'))
  if (result.sanity) {
    result.sanity.files.figures = files.figures.filter((f) => basename(f).startsWith('sanity-'))
    await writeFile(result.sanity.files.json, `${JSON.stringify(result.sanity, null, 2)}\n`)
    await writeFile(result.sanity.files.markdown, sanityMarkdown(result.sanity))
  } else {
    // A run without the check must not leave an earlier run's verdict beside its own results.
    const stale = ['sanity-check.json', 'sanity-check.md', join('figures', 'sanity-cascade.svg'), join('figures', 'sanity-cascade.png')]
    await Promise.all(stale.map((f) => rm(join(runDir, f), { force: true })))
  }
  result.finishedAt = new Date().toISOString()
  result.wallSeconds = (performance.now() - t0) / 1000
  await writeFile(files.csv, resultsCsv(result))
  await writeFile(files.summary, summaryText(result))
  await writeFile(files.verdicts, verdictMarkdown(verdicts))
  await writeFile(files.verdictsCsv, verdictCsv(verdicts))
  await writeFile(files.json, `${JSON.stringify(result, null, 2)}\n`)
  return result
}
