import { BENCHMARK_METHOD_LABELS, VERDICT_LABELS, verdictCounts, type ModelVerdict, type Verdict } from '@common/benchmark'
import { fixed } from './format'

const f2 = (x: number | null): string => fixed(x, 2)
const f3 = (x: number | null): string => fixed(x, 3)
const pct = (x: number | null): string => (x === null ? '—' : `${Math.round(x * 100)}%`)

/** The biased digit's share of empty masks beside the mean share over the other digits that had requests. */
function emptyCells(v: ModelVerdict, method = 'context'): { biased: string; others: string } {
  const r = v.methods.find((m) => m.method === method)
  if (!r) return { biased: '—', others: '—' }
  const others = r.emptyShare.filter((x, d): x is number => d !== v.biasedDigit && x !== null)
  return { biased: pct(r.emptyShare[v.biasedDigit]), others: pct(others.length ? others.reduce((a, b) => a + b, 0) / others.length : null) }
}

/** Grid saliency over the context-dependent requests: their share (biased digit / the others pooled) and the row. */
function dependentCells(v: ModelVerdict): [string, string] {
  const r = v.methods.find((m) => m.method === 'context')
  const d = v.biasedDigit
  if (!r || r.contextDependent[d] === null || r.contextDependent[d] === undefined) return ['—', '—']
  let dep = 0
  let n = 0
  let top: number | null = null
  for (let k = 0; k < r.requests.length; k++) {
    if (k === d || r.contextDependent[k] === null) continue
    dep += r.contextDependent[k] as number
    n += r.requests[k]
    const m = r.mcbdDependent[k]
    if (m !== null && (top === null || m > top)) top = m
  }
  return [`${r.contextDependent[d]}/${r.requests[d]} / ${dep}/${n}`, `${f3(r.mcbdDependent[d])} / ${f3(top)}, ${f2(r.mcblDependent)}`]
}

export function verdictCountLine(verdicts: ModelVerdict[]): string {
  const c = verdictCounts(verdicts)
  return (Object.keys(c) as Verdict[])
    .filter((k) => c[k] > 0)
    .map((k) => `${c[k]} ${VERDICT_LABELS[k]}`)
    .join(', ')
}

/** Rows for a fixed-width text table (summary.txt). */
export function verdictTextRows(verdicts: ModelVerdict[]): string[][] {
  const methods = verdicts[0]?.methods.map((m) => m.method) ?? []
  const head = ['model', 'IoU N → biased (drop)', 'learned', ...methods.map((m) => `${BENCHMARK_METHOD_LABELS[m]} mCBD b / max other, mCBL`), 'empty b / others', 'context-dependent b / others', 'grid over them: mCBD b / max other, mCBL', 'verdict']
  return [
    head,
    ...verdicts.map((v) => {
      const e = emptyCells(v)
      return [
        v.name,
        `${f2(v.iouUnbiasedModel)} → ${f2(v.iouBiasedModel)} (${f2(v.iouDrop)})`,
        v.learned,
        ...v.methods.map((r) => `${f3(r.mcbd[v.biasedDigit])} / ${f3(r.mcbdOthersMax)}, ${f2(r.mcblBiased)}`),
        `${e.biased} / ${e.others}`,
        ...dependentCells(v),
        VERDICT_LABELS[v.verdict]
      ]
    })
  ]
}

/** verdicts.md: the per-model table and each model's reason in words. */
export function verdictMarkdown(verdicts: ModelVerdict[]): string {
  const rows = verdictTextRows(verdicts)
  const cell = (s: string): string => s.replace(/\|/g, '\\|')
  const out = [
    '## Per model: was the bias learned, and did grid saliency find it?',
    '',
    `${verdicts.length} biased model${verdicts.length === 1 ? '' : 's'}: ${verdictCountLine(verdicts) || 'none'}.`,
    '',
    `| ${rows[0].map(cell).join(' | ')} |`,
    `|${rows[0].map(() => '---').join('|')}|`,
    ...rows.slice(1).map((r) => `| ${r.map(cell).join(' | ')} |`),
    ''
  ]
  for (const v of verdicts) out.push(`- **${v.name}** (${VERDICT_LABELS[v.verdict]}): ${v.reason}.`)
  return `${out.join('\n')}\n`
}

/** verdicts.csv: one line per model and method, with the per-digit mCBD and empty shares. */
export function verdictCsv(verdicts: ModelVerdict[]): string {
  const digits = Array.from({ length: 10 }, (_, d) => d)
  const lines = [
    [
      'model,bias,biased_digit,texture,seed,iou_unbiased_model,iou_biased_model,iou_drop,learned,verdict,method,detects,mcbl_biased,mcbl_images',
      ...digits.map((d) => `mcbd_${d}`),
      ...digits.map((d) => `requests_${d}`),
      ...digits.map((d) => `empty_${d}`),
      ...digits.map((d) => `context_dependent_${d}`),
      ...digits.map((d) => `mcbd_dependent_${d}`),
      ...digits.map((d) => `collapsed_${d}`),
      'mcbl_dependent,mcbl_dependent_images'
    ].join(',')
  ]
  for (const v of verdicts) {
    for (const r of v.methods) {
      lines.push(
        [
          v.name, v.bias, v.biasedDigit, v.texture, v.seed, v.iouUnbiasedModel ?? '', v.iouBiasedModel ?? '', v.iouDrop ?? '', v.learned, v.verdict,
          r.method, r.detects, r.mcblBiased ?? '', r.mcblImages,
          ...r.mcbd.map((x) => x ?? ''), ...r.requests, ...r.emptyShare.map((x) => x ?? ''),
          ...digits.map((d) => r.contextDependent[d] ?? ''), ...digits.map((d) => r.mcbdDependent[d] ?? ''),
          ...digits.map((d) => r.collapsed[d] ?? ''),
          r.mcblDependent ?? '', r.mcblDependentImages
        ].join(',')
      )
    }
  }
  return `${lines.join('\n')}\n`
}
