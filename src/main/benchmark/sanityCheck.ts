import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  BENCHMARK_METHOD_LABELS,
  SANITY_SPEARMAN_THRESHOLD,
  type BenchmarkConfig,
  type BenchmarkMethod,
  type SanityCheck,
  type SanityMethod,
  type SanityStage,
  type SummaryStat
} from '@common/benchmark'
import { SIDECAR_FILE, type ModelSidecar } from '@common/modelSidecar'
import { readSidecar } from '../engine/modelFiles'
import { modelJsonPath, readModelJson } from '../engine/modelFiles/fsHandler'
import { cascadeUnits, writeRandomisedModel, type CascadeUnit } from '../engine/modelFiles/randomiseLayers'
import type { EnginePool } from '../engine/pool/pool'
import { poolEngine } from '../jobs/saliencyEngine'
import { compareMasks, contextCells, type MaskComparison } from '../metrics/maskSimilarity'
import { parseSaliencyParams, type SaliencyRequest } from '../saliency'
import type { UnitCache } from './cache'
import { buildRequests, methodParams } from './evaluate'
import type { TestImages } from './testSets'
import { hashOf } from './trainingConfig'

/**
 * The sanity check of Adebayo et al. (2018) beside the benchmark. For one model (the first biased one: the model
 * whose explanations the benchmark is about) and a fixed, evenly spaced sample of the requests of its biased digit, each
 * method's masks are computed on the trained model and again after re-initialising its layers top-down
 * (randomiseLayers.ts), and compared over the context cells (maskSimilarity.ts). A method whose masks stay alike
 * after the deepest stage does not depend on what the model learned, so whatever it shows about context bias
 * cannot come from the model: it is flagged as failing the check.
 */

type StageSpec = BenchmarkConfig['sanityCheck']['stages'][number]

/** What each configured stage re-initialises, with the layer names (output layer first). */
export function planStages(stages: StageSpec[], units: CascadeUnit[]): SanityStage[] {
  const total = units.length
  return stages.map((s) => {
    const count = s === 'top' ? 1 : Math.min(total, Math.max(1, Math.round(s * total)))
    const label = s === 'top' ? 'top layer' : s === 1 ? 'all layers' : `top ${Math.round(s * 100)}%`
    return { label, layers: count, layerNames: units.slice(total - count).reverse().flatMap((u) => u.layers) }
  })
}

/** k items evenly spaced over the list (the middle of each of k equal parts), in order. */
export function evenlySpaced<T>(items: T[], k: number): T[] {
  const n = Math.min(k, items.length)
  return Array.from({ length: n }, (_, j) => items[Math.floor(((j + 0.5) * items.length) / n)])
}

/** Mean, sample standard deviation and n; nulls for what n does not allow. */
export function summaryStat(values: number[]): SummaryStat {
  const n = values.length
  if (n === 0) return { mean: null, std: null, n }
  const mean = values.reduce((a, b) => a + b, 0) / n
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : null
  return { mean, std, n }
}

/** Two-sided 97.5% quantiles of Student's t for 1–30 degrees of freedom; the normal's beyond. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042]

/** 95% confidence interval of the mean (Student t); null below n = 2. */
export function ci95(s: SummaryStat): [number, number] | null {
  if (s.mean === null || s.std === null || s.n < 2) return null
  const half = (T975[s.n - 2] ?? 1.96) * (s.std / Math.sqrt(s.n))
  return [s.mean - half, s.mean + half]
}

/** One method's comparisons: per stage, per request (null where the trained model's own mask is constant). */
export interface SanityUnit {
  method: BenchmarkMethod
  requests: { index: number; digit: number }[]
  stages: { layers: number; comparisons: (MaskComparison | null)[] }[]
  seconds: number
}

export function summariseMethod(unit: SanityUnit, stages: SanityStage[], threshold = SANITY_SPEARMAN_THRESHOLD): SanityMethod {
  const rows = unit.stages.map((s, i) => {
    const kept = s.comparisons.filter((c): c is MaskComparison => c !== null)
    return {
      label: stages[i].label,
      spearman: summaryStat(kept.map((c) => c.spearman)),
      pearson: summaryStat(kept.map((c) => c.pearson)),
      collapsed: kept.filter((c) => c.collapsed).length
    }
  })
  // The verdict rests on the deepest stage: the most of the model that was taken away.
  let deepest = 0
  unit.stages.forEach((s, i) => {
    if (s.layers > unit.stages[deepest].layers) deepest = i
  })
  const final = rows[deepest]?.spearman.mean ?? null
  const interval = rows[deepest] ? ci95(rows[deepest].spearman) : null
  return {
    method: unit.method,
    label: BENCHMARK_METHOD_LABELS[unit.method],
    stages: rows,
    excluded: unit.stages[0]?.comparisons.filter((c) => c === null).length ?? 0,
    verdict: final === null ? 'not assessed' : final > threshold ? 'fails' : 'passes',
    ci95: interval,
    borderline: interval !== null && interval[0] <= threshold && threshold <= interval[1],
    seconds: unit.seconds
  }
}

export interface SanityContext {
  pool: EnginePool
  config: BenchmarkConfig
  runDir: string
  cache: UnitCache
  methods: BenchmarkMethod[]
  model: { key: string; row: string; name: string; dir: string; sidecar: ModelSidecar }
  /** The explanation set of the checked model, as the runner hashes it. */
  setKey: unknown
  /**
   * The biased digit of the checked model, whose requests the sample is drawn from (all requests when null). On
   * the other digits a biased model needs no context, so grid saliency rightly returns an empty mask there, and a
   * constant trained-model mask has no ordering for the check to test.
   */
  focusDigit: number | null
  loadSet: () => Promise<TestImages>
  getPredicted: () => Promise<Uint16Array>
  phase: (label: string) => (done: number, total: number) => void
  check: () => void
  signal?: AbortSignal
  say: (line: string) => void
}

/** The sanity check of the run (without its output files); `computed` counts the units not read from the cache. */
export async function runSanityCheck(c: SanityContext): Promise<{ result: Omit<SanityCheck, 'files'>; computed: number }> {
  const s = c.config.sanityCheck
  const jsonPath = modelJsonPath(c.model.dir)
  const units = cascadeUnits((await readModelJson(jsonPath)).json, jsonPath)
  const stages = planStages(s.stages, units)
  // The randomised copies live with the run, named by the trained model's content so a retrained model never
  // meets the copies of its predecessor.
  const variantsDir = join(c.runDir, 'sanity', `${c.model.name}-${c.model.sidecar.contentHash.slice(0, 12)}`)
  const variants = new Map<number, { dir: string; sidecar: ModelSidecar }>()
  const variant = async (layers: number): Promise<{ dir: string; sidecar: ModelSidecar }> => {
    let v = variants.get(layers)
    if (!v) {
      const dir = join(variantsDir, `top${layers}-seed${s.seed}`)
      const sidecar = existsSync(join(dir, SIDECAR_FILE))
        ? await readSidecar(dir)
        : (await writeRandomisedModel(c.model.dir, dir, layers, s.seed)).sidecar
      v = { dir, sidecar }
      variants.set(layers, v)
    }
    return v
  }

  let sample: { requests: SaliencyRequest[]; meta: { index: number; digit: number }[] } | null = null
  const getSample = async () => {
    if (!sample) {
      const set = await c.loadSet()
      const { requests } = buildRequests(set, await c.getPredicted(), c.config.data.minRequestArea, c.config.saliency.request)
      const focused = requests.filter((r) => r.classId === c.focusDigit)
      const picked = evenlySpaced(focused.length ? focused : requests, s.requests)
      sample = { requests: picked, meta: picked.map((r) => ({ index: Number(r.id), digit: r.classId })) }
    }
    return sample
  }

  let computed = 0
  const methods: SanityMethod[] = []
  let requestsMeta: { index: number; digit: number }[] = []
  let testSet = ''
  for (const method of c.methods) {
    c.check()
    const progress = c.phase(`sanity check ${BENCHMARK_METHOD_LABELS[method]} · ${c.model.name}`)
    const params = methodParams(c.config, method)
    const key = `sanity-${method}-${c.model.key}-${hashOf({
      sidecar: c.model.sidecar.contentHash,
      set: c.setKey,
      testSeed: c.config.data.testSeed,
      perDigit: c.config.data.explainPerDigit,
      biasedDigitImages: c.config.data.explainBiasedDigit,
      minArea: c.config.data.minRequestArea,
      layout: c.config.data.layout,
      request: c.config.saliency.request,
      params,
      requests: s.requests,
      layers: stages.map((st) => st.layers),
      seed: s.seed,
      focusDigit: c.focusDigit
    })}`
    const r = await c.cache.through(key, async (): Promise<SanityUnit & { testSet: string }> => {
      const t0 = performance.now()
      const { requests, meta } = await getSample()
      const set = await c.loadSet()
      c.say(`sanity check ${method}: ${requests.length} requests of ${c.model.name} on ${set.description}, ${stages.length} stages`)
      const parsed = parseSaliencyParams(params)
      const calls = 1 + stages.length
      const run = async (model: { dir: string; sidecar: ModelSidecar }, call: number) =>
        requests.length
          ? poolEngine(c.pool, model.dir, model.sidecar).saliency(requests, parsed, {
              signal: c.signal,
              onProgress: (step, steps) => progress(call * 1000 + Math.round((1000 * step) / Math.max(1, steps)), calls * 1000)
            })
          : []
      const original = await run(c.model, 0)
      const keep = original.map((o, i) => contextCells(requests[i].request, o.imageHeight, o.imageWidth, o.maskHeight, o.maskWidth))
      const out: SanityUnit['stages'] = []
      for (const [k, st] of stages.entries()) {
        c.check()
        const randomised = await run(await variant(st.layers), k + 1)
        out.push({ layers: st.layers, comparisons: randomised.map((m, i) => compareMasks(original[i].mask, m.mask, keep[i])) })
      }
      return { method, requests: meta, stages: out, seconds: (performance.now() - t0) / 1000, testSet: set.description }
    })
    if (!r.cached) computed++
    progress(1, 1)
    requestsMeta = r.value.requests
    testSet = r.value.testSet
    methods.push(summariseMethod(r.value, stages))
  }
  return {
    result: {
      model: { row: c.model.row, name: c.model.name, dir: c.model.dir },
      testSet,
      requests: requestsMeta,
      totalLayers: units.length,
      stages,
      seed: s.seed,
      threshold: SANITY_SPEARMAN_THRESHOLD,
      methods
    },
    computed
  }
}
