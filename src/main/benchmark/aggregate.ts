import { BENCHMARK_METHOD_LABELS, type BenchmarkConfig, type BenchmarkMethod, type BenchmarkModelInfo, type BenchmarkResult } from '@common/benchmark'
import { aggregateBiasMatrix, aggregateContextBias, type BiasedStrength, type ContextBiasRecord } from '../metrics'
import type { EvalUnit, ExplainUnit } from './evaluate'
import { runStrengths, summaryRows } from './output'
import type { ExplainSetPlan } from './plan'
import type { ResolvedModel } from './resolveModels'
import { modelVerdicts } from './verdicts'

const biasedStrength = (bias: 'none' | 'weak' | 'strong'): BiasedStrength | undefined => (bias === 'none' ? undefined : bias)

export interface ExplainedUnit {
  model: ResolvedModel
  set: ExplainSetPlan
  unit: ExplainUnit
}

/** One model's row of the result: where it came from and how well it segments the unbiased test set. */
function modelInfo(m: ResolvedModel, e: EvalUnit): BenchmarkModelInfo {
  const d = m.plan.training.data
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
}

/**
 * Phase 5, the aggregation as in the paper: per image, then per model, then over textures and seeds; and the
 * verdict per biased model.
 */
export function aggregateRun(
  config: BenchmarkConfig,
  methods: BenchmarkMethod[],
  resolved: ResolvedModel[],
  evals: Map<string, EvalUnit>,
  explained: ExplainedUnit[]
): Pick<BenchmarkResult, 'models' | 'iou' | 'methods' | 'summary' | 'verdicts' | 'explained'> {
  const models = resolved.map((m) => modelInfo(m, evals.get(m.key)!))
  // The config decides the row blocks, so the matrices and the summary cannot disagree on them.
  const strengths = runStrengths(config)
  const iouRecords = models.flatMap((m) =>
    m.digitIou.map((v, digit) => ({ biasedDigit: m.biasedDigit, bias: biasedStrength(m.bias), digit, texture: m.texture, seed: m.seed, v }))
  )
  const iou = aggregateBiasMatrix(iouRecords, (r) => r.v, strengths)
  const methodResults = methods.map((method) => {
    const units = explained.filter((u) => u.unit.method === method)
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
  const verdicts = modelVerdicts(
    models,
    explained.filter((u) => u.model.plan.training.data.bias !== 'none').map((u) => ({ modelKey: u.model.key, method: u.unit.method, records: u.unit.records })),
    methods
  )
  return {
    models,
    iou,
    methods: methodResults,
    summary: summaryRows(methodResults, config),
    verdicts,
    explained: {
      requests: explained.reduce((a, u) => a + u.unit.records.length, 0),
      skipped: explained.reduce((a, u) => a + u.unit.skipped.length, 0)
    }
  }
}
