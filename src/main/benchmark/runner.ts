import { mkdir, rm, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { BENCHMARK_METHOD_LABELS, type BenchmarkConfig, type BenchmarkMethod, type BenchmarkPreset, type BenchmarkResult, type SanityCheck } from '@common/benchmark'
import { throwIfAborted } from '../cancellation'
import type { EnginePool } from '../engine/pool/pool'
import { aggregateRun, type ExplainedUnit } from './aggregate'
import { UnitCache } from './cache'
import { configHash, planModels, type PlannedModel } from './config'
import { explainSet, methodParams, predictLabels, segmentationScores, type EvalUnit } from './evaluate'
import { committedModelsRoot, modelName } from './committedModels'
import { resultsCsv, sanityMarkdown, summaryText } from './output'
import { benchmarkPhaseCount, explainPairs, explainSetsFor, runDirFor, type ExplainSetPlan, type RunContext } from './plan'
import { resolveModels, type ResolvedModel } from './resolveModels'
import { runSanityCheck } from './sanityCheck'
import { explainTestSet, unbiasedTestSet, type TestImages } from './testSets'
import { verdictCsv, verdictMarkdown } from './verdictTables'
import { hashOf } from './trainingConfig'

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

/** A (model, test set) pair whose prediction is computed once, when a method or the sanity check first needs it. */
interface PairInput {
  model: ResolvedModel
  set: ExplainSetPlan
  loadSet: () => Promise<TestImages>
  getPredicted: () => Promise<Uint16Array>
}

/** Phase 2: segmentation quality on the unbiased test set (Fig. 4a), per model. */
async function evaluateModels(run: RunContext, resolved: ResolvedModel[]): Promise<{ evals: Map<string, EvalUnit>; computed: number }> {
  const { config, pool, signal } = run
  let unbiased: TestImages | null = null
  let computed = 0
  const evals = new Map<string, EvalUnit>()
  for (const m of resolved) {
    run.check()
    const progress = run.phase(`evaluate ${modelName(m.plan.training)} on the unbiased test set`)
    const unitKey = `eval-${m.key}-${hashOf({ sidecar: m.sidecar.contentHash, testSeed: config.data.testSeed, n: config.data.evalCount, layout: config.data.layout })}`
    const r = await run.cache.through(unitKey, async () => {
      unbiased ??= await unbiasedTestSet(config, signal)
      const predicted = await predictLabels(pool, m.dir, unbiased, { signal, onProgress: progress })
      return segmentationScores(unbiased, predicted)
    })
    if (!r.cached) computed++
    progress(1, 1)
    evals.set(m.key, r.value)
  }
  return { evals, computed }
}

/** Phase 3: per (model, test set), the predicted segments once, then each method's explanations. */
async function explainModels(
  run: RunContext,
  methods: BenchmarkMethod[],
  resolved: ResolvedModel[],
  pairs: { model: PlannedModel; set: ExplainSetPlan }[]
): Promise<{ explained: ExplainedUnit[]; pairInputs: PairInput[]; computed: number }> {
  const { config, pool, signal, say } = run
  const explained: ExplainedUnit[] = []
  const setCache = new Map<string, TestImages>()
  const pairInputs: PairInput[] = []
  let computed = 0
  for (const pair of pairs) {
    run.check()
    const m = resolved.find((r) => r.origin === pair.model)!
    const mname = modelName(m.plan.training)
    const setLabel = pair.set.bias === 'none' ? 'unbiased' : `${pair.set.bias} d${pair.set.digit} t${pair.set.texture}`
    const predictProgress = run.phase(`predict ${mname} on the ${setLabel} test set`)
    let predicted: Uint16Array | null = null
    const loadSet = async (): Promise<TestImages> => {
      let s = setCache.get(pair.set.key)
      if (!s) {
        s = await explainTestSet(config, pair.set.bias, pair.set.digit, pair.set.texture, signal)
        setCache.set(pair.set.key, s)
      }
      return s
    }
    const getPredicted = async (): Promise<Uint16Array> => {
      predicted ??= await predictLabels(pool, m.dir, await loadSet(), { signal, onProgress: predictProgress })
      return predicted
    }
    predictProgress(1, 1)
    pairInputs.push({ model: m, set: pair.set, loadSet, getPredicted })
    for (const method of methods) {
      run.check()
      const progress = run.phase(`explain ${BENCHMARK_METHOD_LABELS[method]} · ${mname} on ${setLabel}`)
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
      const r = await run.cache.through(unitKey, async () => {
        const set = await loadSet()
        say(`explain ${method}: ${mname} on ${set.description}`)
        return explainSet(pool, m, config, method, set, await getPredicted(), { signal, onProgress: progress })
      })
      if (!r.cached) computed++
      progress(1, 1)
      explained.push({ model: m, set: pair.set, unit: r.value })
    }
  }
  return { explained, pairInputs, computed }
}

/** Phase 4: the sanity check (Adebayo et al. 2018) on the first biased model, on the set it was explained on. */
async function sanityCheckOf(run: RunContext, methods: BenchmarkMethod[], pairInputs: PairInput[]): Promise<{ sanity: Omit<SanityCheck, 'files'>; computed: number }> {
  const target = pairInputs.find((p) => p.model.plan.training.data.bias !== 'none') ?? pairInputs[0]
  const r = await runSanityCheck({
    pool: run.pool,
    config: run.config,
    runDir: run.runDir,
    cache: run.cache,
    methods,
    model: { key: target.model.key, row: target.model.plan.row, name: modelName(target.model.plan.training), dir: target.model.dir, sidecar: target.model.sidecar },
    setKey: target.set,
    focusDigit: target.model.plan.training.data.biasedDigit,
    loadSet: target.loadSet,
    getPredicted: target.getPredicted,
    phase: run.phase,
    check: run.check,
    signal: run.signal,
    say: run.say
  })
  return { sanity: r.result, computed: r.computed }
}

/** The run folder's files: results (JSON, CSV), summary, verdicts, figures and the sanity check's own files. */
async function writeRun(result: BenchmarkResult): Promise<void> {
  const { runDir, files } = result
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
}

export async function runBenchmark(o: RunBenchmarkOptions): Promise<BenchmarkResult> {
  const t0 = performance.now()
  const startedAt = new Date().toISOString()
  const { config } = o
  const hash = configHash(config)
  const runDir = runDirFor(o.outRoot, config)
  await mkdir(runDir, { recursive: true })
  await writeFile(join(runDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`)
  const methods = config.saliency.methods as BenchmarkMethod[]
  const planned = planModels(config)
  const pairs = explainPairs(planned, explainSetsFor(config))
  const phases = benchmarkPhaseCount(config)
  let phaseIndex = 0
  const run: RunContext = {
    config,
    pool: o.pool,
    hash,
    outRoot: o.outRoot,
    runDir,
    cache: new UnitCache(join(runDir, 'units')),
    signal: o.signal,
    phase: (label) => {
      const index = ++phaseIndex
      const name = `${index}/${phases} ${label}`
      o.onProgress?.({ phase: name, index, phases, done: 0, total: 1 })
      return (done, total) => o.onProgress?.({ phase: name, index, phases, done, total })
    },
    check: () => throwIfAborted(o.signal, 'benchmark cancelled'),
    say: o.log ?? (() => undefined)
  }

  const models = await resolveModels(run, planned, o.committedRoot ?? committedModelsRoot())
  const evaluated = await evaluateModels(run, models.models)
  const explanations = await explainModels(run, methods, models.models, pairs)
  const checked = config.sanityCheck.enabled && methods.length > 0 ? await sanityCheckOf(run, methods, explanations.pairInputs) : null
  const computedUnits = models.trained + evaluated.computed + explanations.computed + (checked?.computed ?? 0)

  const files = {
    json: join(runDir, 'results.json'),
    csv: join(runDir, 'results.csv'),
    summary: join(runDir, 'summary.txt'),
    verdicts: join(runDir, 'verdicts.md'),
    verdictsCsv: join(runDir, 'verdicts.csv'),
    figures: [] as string[]
  }
  const aggregated = aggregateRun(config, methods, models.models, evaluated.evals, explanations.explained)
  const result: BenchmarkResult = {
    name: config.name,
    preset: o.preset ?? null,
    configHash: hash,
    runDir,
    config,
    startedAt,
    finishedAt: '',
    wallSeconds: 0,
    units: { cached: run.cache.hits, computed: computedUnits },
    models: aggregated.models,
    iou: aggregated.iou,
    methods: aggregated.methods,
    summary: aggregated.summary,
    explained: aggregated.explained,
    verdicts: aggregated.verdicts,
    sanity: checked && {
      ...checked.sanity,
      files: { json: join(runDir, 'sanity-check.json'), markdown: join(runDir, 'sanity-check.md'), figures: [] }
    },
    files
  }
  await writeRun(result)
  result.finishedAt = new Date().toISOString()
  result.wallSeconds = (performance.now() - t0) / 1000
  await writeFile(files.csv, resultsCsv(result))
  await writeFile(files.summary, summaryText(result))
  await writeFile(files.verdicts, verdictMarkdown(result.verdicts))
  await writeFile(files.verdictsCsv, verdictCsv(result.verdicts))
  await writeFile(files.json, `${JSON.stringify(result, null, 2)}\n`)
  return result
}
