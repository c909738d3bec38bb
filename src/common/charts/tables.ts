import type { AuditStats, BiasAlert, RequestedClassStats } from '../audit'
import { evidenceShort, evidenceText, exampleLabel, isThin, THIN_MARK, thinNote, type EvidenceBar } from './evidence'
import { fixed, percent } from './format'
import { rankAlerts } from './alerts'

/** A table both the Reports screen and the PDF print: text cells, with a relative width and alignment per column. */
export interface ReportTable {
  columns: { label: string; align: 'left' | 'right'; weight: number }[]
  rows: string[][]
  /** A footnote printed under the table, e.g. what a mark in it means. */
  note?: string
}

const marked = (cell: string, thin: boolean): string => (thin ? `${cell} ${THIN_MARK}` : cell)

/** Context classes worth a row: any saliency or any baseline ring on them. */
export function presentContext(c: RequestedClassStats): RequestedClassStats['context'] {
  return c.context.filter((k) => k.share > 0 || k.baselineShare > 0).sort((a, b) => b.share - a.share || a.classId - b.classId)
}

/**
 * Fig. 6 in numbers: per context class, share beside the contour baseline, lift and density ratio. A class whose
 * explanations fall short of the evidence bar has its shares marked.
 */
export function contextTable(c: RequestedClassStats, bar: EvidenceBar): ReportTable {
  const thin = isThin(c.evidence, bar)
  return {
    columns: [
      { label: 'Context class', align: 'left', weight: 3 },
      { label: marked('Saliency share', thin), align: 'right', weight: 2 },
      { label: 'Contour baseline', align: 'right', weight: 2 },
      { label: 'Lift', align: 'right', weight: 1.3 },
      { label: 'Density ratio', align: 'right', weight: 1.7 },
      { label: 'Context pixels', align: 'right', weight: 2 }
    ],
    rows: presentContext(c).map((k) => [k.name, marked(percent(k.share), thin), percent(k.baselineShare), fixed(k.lift), fixed(k.densityRatio), String(k.pixels)]),
    ...(thin ? { note: thinNote(bar) } : {})
  }
}

/** Table 1's rows for one ground-truth class: its correct prediction first, then each confusion. */
export function table1Rows(stats: AuditStats, gtClass: number): AuditStats['table1'] {
  return stats.table1.filter((r) => r.gtClass === gtClass)
}

/** A Table 1 group by what it is and what it rests on; marked when that is too little. */
export const table1Label = (r: AuditStats['table1'][number], bar: EvidenceBar): string =>
  marked(`${r.kind === 'correct' ? 'correct' : `as ${r.predName}`} (${evidenceShort(r.evidence)})`, r.evidence.explanations > 0 && isThin(r.evidence, bar))

/**
 * The paper's Table 1 for one ground-truth class, turned on its side: a row per context class and a column per
 * (correct | misclassified as X) group, so a class set of any size fits the page's width and splits across pages.
 * A group with no counted explanation has no shares ('-'); one resting on less than the evidence bar is marked.
 */
export function table1Table(stats: AuditStats, gtClass: number): ReportTable | null {
  const rows = table1Rows(stats, gtClass)
  if (rows.length === 0) return null
  const nameOf = (id: string): string => stats.classes.find((c) => String(c.id) === id)?.name ?? id
  const ids = Object.keys(rows[0].shares).filter((id) => rows.some((r) => (r.shares[id] ?? 0) > 0))
  ids.sort((a, b) => Math.max(...rows.map((r) => r.shares[b] ?? 0)) - Math.max(...rows.map((r) => r.shares[a] ?? 0)) || Number(a) - Number(b))
  return {
    columns: [{ label: 'Context class', align: 'left', weight: 3 }, ...rows.map((r) => ({ label: table1Label(r, stats.options), align: 'right' as const, weight: 2 }))],
    rows: ids.map((id) => [nameOf(id), ...rows.map((r) => (r.evidence.explanations === 0 ? '-' : marked(percent(r.shares[id]), isThin(r.evidence, stats.options))))]),
    ...(rows.some((r) => r.evidence.explanations > 0 && isThin(r.evidence, stats.options)) ? { note: thinNote(stats.options) } : {})
  }
}

export const alertLabel = (a: BiasAlert): string => `${a.requestedName} <- ${a.contextName}`

export function alertEvidence(a: BiasAlert, level: number): string {
  const ci = `${Math.round(100 * level)}% CI ${fixed(a.ci[0])} to ${fixed(a.ci[1])}`
  return a.reason === 'share'
    ? `share ${percent(a.share)} vs baseline ${percent(a.baselineShare)}: +${fixed(a.value)} (${ci}; alert above ${fixed(a.threshold)})`
    : `density ratio ${fixed(a.value)} (${ci}; alert above ${fixed(a.threshold)}); share ${percent(a.share)} vs baseline ${percent(a.baselineShare)}`
}

/**
 * The ranked alerts (or, with `which` 'insufficient', those resting on too little) with their evidence, what they
 * rest on, and example explanations by file name and place.
 */
export function alertsTable(stats: AuditStats, which: 'alerts' | 'insufficient' = 'alerts'): ReportTable {
  return {
    columns: [
      // Weights keep "Requested <- context", "Reason" and a three-digit rank on one line at the PDF's 9 pt.
      { label: '#', align: 'right', weight: 0.7 },
      { label: 'Requested <- context', align: 'left', weight: 2.8 },
      { label: 'Reason', align: 'left', weight: 1.2 },
      { label: 'Evidence', align: 'left', weight: 3.5 },
      { label: 'Rests on', align: 'left', weight: 2 },
      { label: 'Examples', align: 'left', weight: 3.3 }
    ],
    rows: rankAlerts(stats[which]).map((a, i) => [
      String(i + 1),
      alertLabel(a),
      a.reason === 'share' ? 'share' : 'density',
      alertEvidence(a, stats.options.level),
      evidenceText(a.evidence),
      a.examples.map((e) => `${exampleLabel(e)} (${percent(e.share, 0)})`).join('; ') || '-'
    ])
  }
}
