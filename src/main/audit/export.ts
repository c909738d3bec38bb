import type { AuditStats, Evidence } from '@common/audit'
import { exampleLabel } from '@common/charts'

/**
 * Statistics as one CSV table in long format (one row per number group), so spreadsheets and pandas read it
 * without knowing the class list: `section` says which table a row belongs to.
 */
export const STATS_CSV_COLUMNS = [
  'section',
  'requested_class',
  'gt_class',
  'pred_class',
  'context_class',
  'share',
  'baseline_share',
  'lift',
  'density',
  'density_ratio',
  'explanations',
  'reason',
  'value',
  'ci_low',
  'ci_high',
  'examples',
  'images',
  'recovered',
  'not_recovered',
  'recovery_rate',
  'example_explanation_ids'
] as const

type Cell = string | number | null | undefined

function cell(v: Cell): string {
  if (v === null || v === undefined) return ''
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function statsToCsv(stats: AuditStats): string {
  const rows: Cell[][] = [[...STATS_CSV_COLUMNS]]
  const row = (values: Partial<Record<(typeof STATS_CSV_COLUMNS)[number], Cell>>): Cell[] => STATS_CSV_COLUMNS.map((c) => values[c])
  // What each figure rests on, on every row of it.
  const n = (e: Evidence) => ({ explanations: e.explanations, images: e.images, recovered: e.recovered, not_recovered: e.notRecovered, recovery_rate: e.recoveryRate })
  for (const r of stats.perClass) {
    // The requested object's own saliency outside the request, which no context class holds (context outside-object).
    rows.push(row({ section: 'object', requested_class: r.name, share: r.objectShare, ...n(r.evidence) }))
    for (const c of r.context) {
      rows.push(
        row({
          section: 'context',
          requested_class: r.name,
          context_class: c.name,
          share: c.share,
          baseline_share: c.baselineShare,
          lift: c.lift,
          density: c.density,
          density_ratio: c.densityRatio,
          ...n(r.evidence)
        })
      )
    }
  }
  const nameOf = (id: string): string => stats.classes.find((c) => String(c.id) === id)?.name ?? id
  for (const t of stats.table1) {
    for (const [k, share] of Object.entries(t.shares)) {
      rows.push(row({ section: 'table1', gt_class: t.gtName, pred_class: t.predName, context_class: nameOf(k), share, density: t.densities[k], ...n(t.evidence) }))
    }
  }
  const alerts = [...stats.alerts.map((a) => ['alert', a] as const), ...stats.insufficient.map((a) => ['insufficient_evidence', a] as const)]
  for (const [section, a] of alerts) {
    rows.push(
      row({
        section,
        requested_class: a.requestedName,
        context_class: a.contextName,
        share: a.share,
        baseline_share: a.baselineShare,
        density_ratio: a.densityRatio,
        reason: a.reason,
        value: a.value,
        ci_low: a.ci[0],
        ci_high: a.ci[1],
        examples: a.examples.map(exampleLabel).join('; '),
        example_explanation_ids: a.examples.map((e) => e.explanationId).join(' '),
        ...n(a.evidence)
      })
    )
  }
  return rows.map((r) => r.map(cell).join(',')).join('\n') + '\n'
}

/** RFC 4180 reader for what statsToCsv writes (quoted fields, doubled quotes, newlines inside quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let field = ''
  let row: string[] = []
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++
      else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') row.push(field), (field = '')
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else field += ch
  }
  if (field !== '' || row.length > 0) rows.push([...row, field])
  return rows
}

/** The one text form of the statistics, whether a file gets it (audit:exportStats) or stdout (audit:formatStats). */
export function statsText(stats: AuditStats, format: 'csv' | 'json'): string {
  return format === 'csv' ? statsToCsv(stats) : `${JSON.stringify(stats, null, 2)}\n`
}
