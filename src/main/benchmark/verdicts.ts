import {
  BENCHMARK_METHOD_LABELS,
  BIAS_LEARNED_IOU_DROP,
  CONTEXT_DEPENDENT_SCORE,
  DETECTION_MIN_MCBL,
  EMPTY_MASK_CBD,
  type BenchmarkMethod,
  type BenchmarkModelInfo,
  type ModelMethodReading,
  type ModelVerdict,
  type Verdict
} from '@common/benchmark'
import type { ImageRecord } from './evaluate'
import { fixed } from './format'

const DIGITS = 10
/** S at the initial mask below this share of S on the original image counts as "already ≈ 0 at the start". */
const START_LOW = 0.1

export interface ModelExplanations {
  modelKey: string
  method: BenchmarkMethod
  /** The model's explanations on its own biased test set. */
  records: ImageRecord[]
}

const meanOf = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null)
const f2 = (x: number | null): string => fixed(x, 2)
const f3 = (x: number | null): string => fixed(x, 3)

/** null: the record carries no score without context (gradient methods, units cached before it was recorded). */
function dependsOnContext(r: ImageRecord): boolean | null {
  if (typeof r.scoreEmptyMask !== 'number' || typeof r.scoreOriginal !== 'number') return null
  return r.scoreEmptyMask < CONTEXT_DEPENDENT_SCORE * r.scoreOriginal
}

/** The row again over the context-dependent requests only: what the mean over all requests dilutes. */
function dependentReading(records: ImageRecord[], biasedDigit: number) {
  const contextDependent: (number | null)[] = []
  const collapsed: (number | null)[] = []
  const mcbdDependent: (number | null)[] = []
  for (let d = 0; d < DIGITS; d++) {
    const mine = records.filter((r) => r.digit === d)
    const known = mine.map(dependsOnContext)
    if (mine.length === 0 || known.some((k) => k === null)) {
      contextDependent.push(null)
      collapsed.push(null)
      mcbdDependent.push(null)
      continue
    }
    const dep = mine.filter((_, i) => known[i])
    contextDependent.push(dep.length)
    collapsed.push(dep.filter((r) => r.cbd !== null && r.cbd < EMPTY_MASK_CBD).length)
    mcbdDependent.push(meanOf(dep.filter((r) => r.cbd !== null).map((r) => r.cbd as number)))
  }
  const cbls = records.filter((r) => r.digit === biasedDigit && dependsOnContext(r) === true && r.cbl !== null).map((r) => r.cbl as number)
  return { contextDependent, collapsed, mcbdDependent, mcblDependent: meanOf(cbls), mcblDependentImages: cbls.length }
}

/** One method's row of one biased model: per digit mCBD, requests and empty masks; the diagonal's mCBL. */
export function methodReading(method: BenchmarkMethod, records: ImageRecord[], biasedDigit: number): ModelMethodReading {
  const mcbd: (number | null)[] = []
  const requests: number[] = []
  const emptyShare: (number | null)[] = []
  for (let d = 0; d < DIGITS; d++) {
    const cbds = records.filter((r) => r.digit === d && r.cbd !== null).map((r) => r.cbd as number)
    mcbd.push(meanOf(cbds))
    requests.push(records.filter((r) => r.digit === d).length)
    emptyShare.push(cbds.length ? cbds.filter((c) => c < EMPTY_MASK_CBD).length / cbds.length : null)
  }
  const cbls = records.filter((r) => r.digit === biasedDigit && r.cbl !== null).map((r) => r.cbl as number)
  const emptyBiased = records.filter((r) => r.digit === biasedDigit && r.cbd !== null && r.cbd < EMPTY_MASK_CBD)
  const withStart = emptyBiased.filter((r) => typeof r.scoreStart === 'number' && typeof r.scoreOriginal === 'number')
  const emptyStartedLow =
    emptyBiased.length > 0 && withStart.length === emptyBiased.length
      ? withStart.filter((r) => (r.scoreStart as number) < START_LOW * (r.scoreOriginal as number)).length
      : emptyBiased.length === 0 && records.some((r) => typeof r.scoreStart === 'number')
        ? 0
        : null
  const mcblBiased = meanOf(cbls)
  let mcbdOthersMax: number | null = null
  let mcbdOthersMaxDigit: number | null = null
  for (let d = 0; d < DIGITS; d++) {
    const v = mcbd[d]
    if (d === biasedDigit || v === null) continue
    if (mcbdOthersMax === null || v > mcbdOthersMax) {
      mcbdOthersMax = v
      mcbdOthersMaxDigit = d
    }
  }
  const diag = mcbd[biasedDigit]
  const detects = diag !== null && (mcbdOthersMax === null || diag > mcbdOthersMax) && mcblBiased !== null && mcblBiased >= DETECTION_MIN_MCBL
  return {
    method,
    mcbd,
    requests,
    emptyShare,
    mcblBiased,
    emptyStartedLow,
    mcblImages: cbls.length,
    ...dependentReading(records, biasedDigit),
    mcbdOthersMax,
    mcbdOthersMaxDigit,
    detects
  }
}

function learnedFrom(iouU: number | null, iouB: number | null, digit: number): { learned: ModelVerdict['learned']; drop: number | null; text: string } {
  if (iouU === null || iouB === null) {
    return { learned: 'undetermined', drop: null, text: `digit ${digit} has no IoU under ${iouU === null ? 'the unbiased model of its seed' : 'this model'}` }
  }
  const drop = iouU - iouB
  const change = `digit ${digit} IoU on unbiased images ${f2(iouU)} → ${f2(iouB)} (drop ${f2(drop)})`
  if (drop >= BIAS_LEARNED_IOU_DROP) return { learned: 'yes', drop, text: `${change} ≥ ${BIAS_LEARNED_IOU_DROP}: the bias was learned` }
  // An unbiased model that hardly segments the digit leaves no room for the drop to show.
  if (iouU < BIAS_LEARNED_IOU_DROP) {
    return { learned: 'undetermined', drop, text: `${change}: the unbiased model segments digit ${digit} too poorly for a drop of ${BIAS_LEARNED_IOU_DROP} to show` }
  }
  return { learned: 'no', drop, text: `${change} < ${BIAS_LEARNED_IOU_DROP}: the model still finds the digit without its texture` }
}

function detectionText(r: ModelMethodReading, digit: number): string {
  const n = r.requests[digit]
  const empty = r.emptyShare[digit]
  const parts = [
    `${BENCHMARK_METHOD_LABELS[r.method]}: mCBD ${f3(r.mcbd[digit])} (n ${n}) vs highest other ${f3(r.mcbdOthersMax)}` +
      (r.mcbdOthersMaxDigit !== null ? ` (digit ${r.mcbdOthersMaxDigit})` : ''),
    `mCBL ${f2(r.mcblBiased)} over ${r.mcblImages} non-empty masks`,
    `${empty === null ? '—' : Math.round(empty * n)}/${n} masks empty` +
      (r.emptyStartedLow !== null && empty ? ` (${r.emptyStartedLow} of them with S at the start < ${START_LOW * 100}% of the original)` : '')
  ]
  const dep = r.contextDependent[digit]
  if (dep !== null && dep !== undefined) {
    let top: number | null = null
    r.mcbdDependent.forEach((v, d) => {
      if (d !== digit && v !== null && (top === null || v > (r.mcbdDependent[top] as number))) top = d
    })
    const others = top === null ? null : `${f3(r.mcbdDependent[top])} (digit ${top}, n ${r.contextDependent[top]})`
    parts.push(
      `over the ${dep}/${n} requests whose score depends on context (S without context < ${CONTEXT_DEPENDENT_SCORE * 100}% of S): ` +
        `mCBD ${f3(r.mcbdDependent[digit])} vs highest other ${others ?? '—'}, mCBL ${f2(r.mcblDependent)} over ${r.mcblDependentImages}, ` +
        `${r.collapsed[digit]} empty (collapsed) where the score needed context`
    )
  }
  return parts.join('; ')
}

/**
 * The reading the issue asks for, per biased model: did the model learn its bias (the biased digit's IoU on
 * unbiased data against the unbiased model of the same seed), and did grid saliency find it (its mCBD for the
 * biased digit tops the row and its mCBL ≥ 0.8)? The other methods' readings are reported beside it.
 */
export function modelVerdicts(models: BenchmarkModelInfo[], explanations: ModelExplanations[], methods: BenchmarkMethod[]): ModelVerdict[] {
  const out: ModelVerdict[] = []
  for (const m of models) {
    if (m.bias === 'none' || m.biasedDigit === null || m.texture === null) continue
    const d = m.biasedDigit
    const n = models.find((x) => x.bias === 'none' && x.seed === m.seed)
    const iouU = n?.digitIou[d] ?? null
    const iouB = m.digitIou[d] ?? null
    const l = learnedFrom(iouU, iouB, d)
    const readings = methods.map((method) =>
      methodReading(method, explanations.filter((e) => e.modelKey === m.key && e.method === method).flatMap((e) => e.records), d)
    )
    const grid = readings.find((r) => r.method === 'context')
    let verdict: Verdict
    let reason = l.text
    if (l.learned === 'no') verdict = 'not-learned'
    else if (l.learned === 'undetermined') verdict = 'undetermined'
    else if (!grid) {
      verdict = 'undetermined'
      reason += '; grid saliency was not run'
    } else verdict = grid.detects ? 'learned-detected' : 'learned-missed'
    if (grid) reason += `. ${detectionText(grid, d)}`
    out.push({
      key: m.key,
      name: `${m.bias}-d${d}-t${m.texture}-s${m.seed}`,
      row: m.row,
      bias: m.bias,
      biasedDigit: d,
      texture: m.texture,
      seed: m.seed,
      iouUnbiasedModel: iouU,
      iouBiasedModel: iouB,
      iouDrop: l.drop,
      learned: l.learned,
      methods: readings,
      verdict,
      reason
    })
  }
  return out
}
