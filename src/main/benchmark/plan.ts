import { resolve } from 'node:path'
import type { BenchmarkConfig } from '@common/benchmark'
import type { EnginePool } from '../engine/pool/pool'
import type { UnitCache } from './cache'
import { configHash, planModels, type PlannedModel } from './config'

/** The explanation sets of the run: one per distinct (bias, digit, texture) of the experiments. */
export interface ExplainSetPlan {
  key: string
  bias: 'none' | 'weak' | 'strong'
  digit: number | null
  texture: number | null
}

export function explainSetsFor(config: BenchmarkConfig): ExplainSetPlan[] {
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
export function explainPairs(models: PlannedModel[], sets: ExplainSetPlan[]): { model: PlannedModel; set: ExplainSetPlan }[] {
  const pairs: { model: PlannedModel; set: ExplainSetPlan }[] = []
  for (const m of models) {
    const d = m.training.data
    if (d.bias === 'none') for (const s of sets) pairs.push({ model: m, set: s })
    else pairs.push({ model: m, set: sets.find((s) => s.bias === d.bias && s.digit === d.biasedDigit && s.texture === d.biasTexture)! })
  }
  return pairs
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

/** What every phase of one run shares: where it writes, its unit cache, its progress and its cancellation. */
export interface RunContext {
  config: BenchmarkConfig
  pool: EnginePool
  hash: string
  outRoot: string
  runDir: string
  cache: UnitCache
  signal?: AbortSignal
  /** Starts the next phase; the function it returns reports that phase's progress. */
  phase: (label: string) => (done: number, total: number) => void
  /** Throws when the run was stopped, between units of work. */
  check: () => void
  say: (line: string) => void
}
