import {
  BENCHMARK_METHOD_LABELS,
  type BenchmarkConfig,
  type BenchmarkMethod,
  type BenchmarkResult,
  type BenchmarkSummaryRow,
  type BiasMatrixData,
  type SanityCheck,
  type SanityMethod,
  type SummaryStat
} from '@common/benchmark'
import { fixed } from './format'
import { verdictCountLine, verdictTextRows } from './verdictTables'
import { biasRowLabel, orderedStrengths, type BiasedStrength } from '../metrics'

/** What the paper reports for each method in Fig. 4 (Sec. 4.2), in words where it gives no number. */
export const PAPER_FINDINGS: Record<BenchmarkMethod, string> = {
  context: 'mCBD: diagonal clearly above the rest; mCBL > 0.9',
  vg: 'mCBD: no reliable detection; mCBL ≈ 0.5 (chance)',
  ig: 'mCBD: diagonal high, but unbiased digits high too; mCBL ≈ 0.5',
  sg: 'mCBD: no reliable detection; mCBL ≈ 0.5 (chance)'
}

/**
 * The PyTorch reference of the same experiment on this machine (design.md: strong bias on digit 2, 1.2M-parameter
 * U-Net): printed beside ours because it is the closest like-for-like number we have.
 */
export const PYTORCH_REFERENCE: Partial<Record<BenchmarkMethod, { mcbdBiased: number; mcbdOthers: number; mcbl: number }>> = {
  context: { mcbdBiased: 0.2, mcbdOthers: 0.06, mcbl: 0.85 },
  vg: { mcbdBiased: 0.33, mcbdOthers: 0.34, mcbl: 0.43 }
}

/** The bias strengths of a run's experiments, strong first. */
export const runStrengths = (config: BenchmarkConfig): BiasedStrength[] => orderedStrengths(config.experiments.map((e) => e.bias))

const rowIndex = (m: BiasMatrixData, label: string): number => m.rowLabels.indexOf(label)
const mean = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null)
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null
}

/**
 * One row per method and Fig. 4 row: the biased digit's mCBD and mCBL (the diagonal) against the mean mCBD of
 * the other digits. For row N the "biased" digits are those of the experiments, which the unbiased model was
 * explained on: its numbers are the no-bias control.
 */
export function summaryRows(
  methods: { method: BenchmarkMethod; cbd: BiasMatrixData; cbl: BiasMatrixData }[],
  config: BenchmarkConfig
): BenchmarkSummaryRow[] {
  const biasedDigits = [...new Set(config.experiments.flatMap((e) => e.biasedDigits))].sort((a, b) => a - b)
  const strengths = runStrengths(config)
  // In the order of the matrices' rows: strength (strong first), then digit.
  const biasedRows = strengths.flatMap((bias) => {
    const digits = new Set(config.experiments.filter((e) => e.bias === bias).flatMap((e) => e.biasedDigits))
    return [...digits].sort((a, b) => a - b).map((digit) => ({ digit, row: biasRowLabel(digit, bias, strengths) }))
  })
  const rows: BenchmarkSummaryRow[] = []
  for (const m of methods) {
    if (config.unbiased && biasedDigits.length) {
      const r = rowIndex(m.cbd, 'N')
      rows.push({
        method: m.method,
        label: BENCHMARK_METHOD_LABELS[m.method],
        row: 'N',
        biasedDigit: null,
        mcbdBiased: mean(biasedDigits.map((d) => m.cbd.values[r][d])),
        mcbdOthers: mean(m.cbd.values[r].filter((_, j) => !biasedDigits.includes(j))),
        mcblBiased: mean(biasedDigits.map((d) => m.cbl.values[r][d])),
        paper: 'no bias: no digit should stand out'
      })
    }
    for (const { digit: d, row } of biasedRows) {
      const r = rowIndex(m.cbd, row)
      rows.push({
        method: m.method,
        label: BENCHMARK_METHOD_LABELS[m.method],
        row,
        biasedDigit: d,
        mcbdBiased: m.cbd.values[r][d],
        mcbdOthers: mean(m.cbd.values[r].filter((_, j) => j !== d)),
        mcblBiased: m.cbl.values[r][d],
        paper: PAPER_FINDINGS[m.method]
      })
    }
  }
  return rows
}

const f = fixed

function pad(rows: string[][]): string {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => (r[j] ?? '').length)))
  return rows.map((r) => r.map((c, j) => c.padEnd(widths[j])).join('  ').trimEnd()).join('\n')
}

/** Plain-text tables: models with IoU, then each method's mCBD/mCBL beside the paper's and the reference's. */
export function summaryText(r: BenchmarkResult): string {
  const out: string[] = []
  out.push(`Context-bias benchmark '${r.name}' (config ${r.configHash}), ${r.wallSeconds.toFixed(0)} s wall, ${r.units.computed} units computed, ${r.units.cached} from cache`)
  out.push('')
  out.push('Segmentation on the unbiased test set (IoU per digit):')
  out.push(
    pad([
      ['row', 'model', 'source', 'val mIoU', 'test mIoU', ...Array.from({ length: 10 }, (_, d) => `${d}`)],
      ...r.models.map((m) => [m.row, m.bias === 'none' ? `none, seed ${m.seed}` : `${m.bias} d${m.biasedDigit} t${m.texture} s${m.seed}`, m.source, f(m.valMiou), f(m.testMiou), ...m.digitIou.map((v) => f(v, 2))])
    ])
  )
  out.push('')
  out.push('Context bias (mCBD: biased digit vs the mean of the others; mCBL of the biased digit):')
  out.push(
    pad([
      ['method', 'row', 'mCBD biased', 'mCBD others', 'mCBL biased', 'paper (Fig. 4)', 'PyTorch ref. here (mCBD b/o, mCBL)'],
      ...r.summary.map((s) => {
        // The reference is of strong bias on digit 2 towards texture 3 only: beside any other row it would mislead.
        const ref = r.models.some((m) => m.row === s.row && m.bias === 'strong' && m.biasedDigit === 2 && m.texture === 3) ? PYTORCH_REFERENCE[s.method] : undefined
        return [
          s.label,
          s.row === 'N' ? 'N (control)' : s.row,
          f(s.mcbdBiased),
          f(s.mcbdOthers),
          f(s.mcblBiased),
          s.paper,
          ref ? `${ref.mcbdBiased} / ${ref.mcbdOthers}, ${ref.mcbl}` : ''
        ]
      })
    ])
  )
  out.push('')
  if (r.verdicts.length) {
    out.push('Per biased model: was the bias learned (IoU drop against the unbiased model of the same seed ≥ 0.15), and did grid saliency')
    out.push("find it (its mCBD for the biased digit tops the row and its mCBL ≥ 0.8)? 'empty': masks with no context saliency.")
    out.push(pad(verdictTextRows(r.verdicts)))
    out.push(`Verdicts: ${verdictCountLine(r.verdicts)}`)
    out.push('')
  }
  out.push(`Explained ${r.explained.requests} requests (${r.explained.skipped} images skipped: predicted digit segment too small).`)
  out.push(`Method time: ${r.methods.map((m) => `${m.label} ${m.seconds.toFixed(0)} s`).join(', ')}`)
  if (r.sanity) {
    out.push('')
    out.push(...sanityText(r.sanity))
  }
  return `${out.join('\n')}\n`
}

/** "0.12 ± 0.08" (± the standard deviation over the requests); '—' without values. */
export const stat = (s: SummaryStat, d = 2): string =>
  s.mean === null ? '—' : s.std === null ? s.mean.toFixed(d) : `${s.mean.toFixed(d)} ± ${s.std.toFixed(d)}`

const VERDICT_TEXT: Record<SanityMethod['verdict'], string> = {
  passes: 'passes',
  fails: 'FAILS: insensitive to the model (fails the sanity check)',
  'not assessed': 'not assessed (no request with a non-constant mask)'
}

/** The stage the verdict rests on: the one that re-initialises the most layers. */
export function deepestStage(s: SanityCheck): number {
  let k = 0
  s.stages.forEach((st, i) => {
    if (st.layers > s.stages[k].layers) k = i
  })
  return k
}

function sanityIntro(s: SanityCheck): string[] {
  const images = s.requests.map((r) => `${r.index} (digit ${r.digit})`).join(', ')
  return [
    `Model ${s.model.name} (row ${s.model.row}); ${s.requests.length} requests of the ${s.testSet} (test images ${images || 'none'}),`,
    "evenly spaced over the biased digit's requests, where the trained model uses the context (over all requests for an unbiased model).",
    `Its ${s.totalLayers} weighted layers (a convolution with its batch norm counts as one) are re-initialised from the output down with`,
    `each layer's own initialiser (seed ${s.seed}). Each mask is compared with the trained model's over the context cells (cells touching the`,
    'request are left out: every method leaves the request at zero whatever the model): Spearman rank correlation and Pearson correlation',
    'of |mask|, mean ± standard deviation over the requests, with n. A mask that became constant ("collapsed", e.g. an empty grid',
    'saliency mask) counts as correlation 0; a request whose trained-model mask is constant is left out (nothing to compare).',
    `A method fails when its mean Spearman after the deepest stage is above ${s.threshold}: its masks do not depend on what the model learned;`,
    'the verdict is marked borderline when the 95% confidence interval of that mean holds the threshold.'
  ]
}

const interval = (ci: [number, number] | null): string => (ci ? `${ci[0].toFixed(2)} to ${ci[1].toFixed(2)}` : '—')

function sanityText(s: SanityCheck): string[] {
  const out = ['Sanity check: cascading randomisation (Adebayo et al. 2018)', ...sanityIntro(s), '']
  out.push(
    pad([
      ['method', 'stage', 'layers', 'Spearman', 'Pearson', 'n', 'collapsed'],
      ...s.methods.flatMap((m) =>
        m.stages.map((st, i) => [m.label, st.label, `${s.stages[i].layers} of ${s.totalLayers}`, stat(st.spearman), stat(st.pearson), String(st.spearman.n), String(st.collapsed)])
      )
    ])
  )
  out.push('')
  out.push(sanitySummaryLine(s))
  return out
}

/** One line for the CLI: each method's Spearman after the deepest stage and its verdict. */
export function sanitySummaryLine(s: SanityCheck): string {
  const k = deepestStage(s)
  const parts = s.methods.map((m) => {
    const st = m.stages[k]
    return `${m.label} ${stat(st.spearman)} (n ${st.spearman.n}) ${m.verdict === 'fails' ? 'FAILS: insensitive to the model' : m.verdict}${m.borderline ? ' (borderline)' : ''}`
  })
  return `Sanity check (Adebayo et al. 2018, ${s.model.name}): Spearman with the trained model's masks after ${s.stages[k].label} re-initialised (${s.stages[k].layers} of ${s.totalLayers}): ${parts.join('; ')}`
}

/** The sanity check as a markdown section (sanity-check.md in the run folder). */
export function sanityMarkdown(s: SanityCheck): string {
  const cell = (v: string): string => v.replace(/\|/g, '\\|')
  const out = ['## Sanity check: cascading randomisation (Adebayo et al. 2018)', '', sanityIntro(s).join(' '), '']
  out.push('| Method | Stage | Layers re-initialised | Spearman | Pearson | n | Collapsed |', '|---|---|---|---|---|---|---|')
  for (const m of s.methods) {
    m.stages.forEach((st, i) => {
      out.push(`| ${cell(m.label)} | ${st.label} | ${s.stages[i].layers} of ${s.totalLayers} | ${stat(st.spearman)} | ${stat(st.pearson)} | ${st.spearman.n} | ${st.collapsed} |`)
    })
  }
  const k = deepestStage(s)
  out.push(
    '',
    `| Method | Verdict (mean Spearman after ${s.stages[k].label}, threshold ${s.threshold}) | 95% CI of the mean | Requests left out | Seconds |`,
    '|---|---|---|---|---|'
  )
  for (const m of s.methods) {
    const verdict = `${VERDICT_TEXT[m.verdict]}${m.borderline ? '; borderline: the interval holds the threshold' : ''}`
    out.push(`| ${cell(m.label)} | ${verdict} | ${interval(m.ci95)} | ${m.excluded} | ${m.seconds.toFixed(0)} |`)
  }
  out.push('', 'Layers by stage (output first):', '')
  for (const st of s.stages) out.push(`- ${st.label} (${st.layers}): ${st.layerNames.join(', ')}`)
  return `${out.join('\n')}\n`
}

/** Long format: one line per matrix cell, so a spreadsheet can pivot it into any of the Fig. 4 panels. */
export function resultsCsv(r: BenchmarkResult): string {
  const lines = ['table,method,row,column,mean,std,models,images,undefined_images']
  const emit = (table: string, method: string, m: BiasMatrixData): void => {
    m.cells.forEach((row, i) =>
      row.forEach((c, j) => {
        if (c.models === 0 && c.undefinedImages === 0) return
        lines.push([table, method, m.rowLabels[i], m.columnLabels[j], c.mean ?? '', c.std ?? '', c.models, c.images, c.undefinedImages].join(','))
      })
    )
  }
  emit('iou', '', r.iou)
  for (const m of r.methods) {
    emit('cbd', m.method, m.cbd)
    emit('cbl', m.method, m.cbl)
  }
  return `${lines.join('\n')}\n`
}
