import type { AuditStats, Evidence, ExampleRef } from '../audit'
import { count, MIN_PERCENT_BASE, percent, proportion } from './format'

// What a figure rests on and where its examples are, in the words the screen, the CLI and the PDF share.

/** "n=12, 5 img, 30% rec." ("1 of 3 rec." on fewer than MIN_PERCENT_BASE): the short form under a column or in a cell. */
export function evidenceShort(e: Evidence): string {
  return `n=${e.explanations}, ${e.images} img${e.recoveryRate === null ? '' : `, ${proportion(e.recovered, e.recovered + e.notRecovered)} rec.`}`
}

/** "12 explanations on 5 images; 12 of 40 recovered (30%)": what a figure rests on, in words. */
export function evidenceText(e: Evidence): string {
  const n = `${count(e.explanations, 'explanation')} on ${count(e.images, 'image')}`
  if (e.recoveryRate === null) return `${n}${faithfulnessText(e)}`
  const all = e.recovered + e.notRecovered
  return `${n}; ${e.recovered} of ${all} recovered${all < MIN_PERCENT_BASE ? '' : ` (${percent(e.recoveryRate, 0)})`}${faithfulnessText(e)}`
}

/** "; deletion faithfulness 0.41 (mean of 24)", or nothing when no counted explanation has the figure. */
function faithfulnessText(e: Evidence): string {
  const f = e.faithfulness
  if (!f || f.n === 0 || f.mean === null) return ''
  return `; deletion faithfulness ${f.mean.toFixed(2)} (mean of ${f.n})`
}

/** The audit's bar for evidence: an alert needs this much, and a share resting on less is marked as thin. */
export type EvidenceBar = Pick<AuditStats['options'], 'minExplanations' | 'minImages'>

/** Too few explanations or images for a share to stand as a rate (the same bar an alert must clear). */
export const isThin = (e: Pick<Evidence, 'explanations' | 'images'>, bar: EvidenceBar): boolean => e.explanations < bar.minExplanations || e.images < bar.minImages

/** Marks a figure resting on thin evidence, in the screen's tables and the PDF's (a WinAnsi glyph). */
export const THIN_MARK = '\u2020'

/** The footnote a table with thin columns carries. */
export const thinNote = (bar: EvidenceBar): string =>
  `${THIN_MARK} Rests on fewer than ${bar.minExplanations} explanations or ${bar.minImages} images, the bar an alert must clear: read such shares as examples, not as rates.`

/** An example as a reader finds it: "00076.png (val), rider at (312, 140), 412 px". Ids stay link targets. */
export function exampleLabel(e: ExampleRef): string {
  const image = `${e.image.name}${e.image.split ? ` (${e.image.split})` : ''}`
  return e.segment ? `${image}, ${e.segment.className} at (${e.segment.x}, ${e.segment.y}), ${e.segment.area} px` : image
}

/**
 * A segment as a reader finds it on its image, by kind: "rider at (312, 140), 412 px, predicted as person",
 * "correct rider at ...", "region predicted as rider at ...", "rider instance at ...", "drawn region at ...".
 * Class names are '-' (or null) where the kind has none.
 */
export function segmentLabel(s: { kind: string; gt: string | null; pred: string | null; area: number; x: number; y: number }): string {
  const at = `at (${s.x}, ${s.y}), ${s.area} px`
  const gt = s.gt && s.gt !== '-' ? s.gt : null
  const pred = s.pred && s.pred !== '-' ? s.pred : null
  if (s.kind === 'misclassified' && gt && pred) return `${gt} ${at}, predicted as ${pred}`
  if (s.kind === 'correct' && gt) return `correct ${gt} ${at}`
  if (s.kind === 'instance' && gt) return `${gt} instance ${at}`
  if (s.kind === 'predicted' && pred) return `region predicted as ${pred} ${at}`
  return `${s.kind} region ${at}`
}

/** "PARTIAL: 128 of 368 items": what a partial audit's statistics open with on the screen, in the CLI and the PDF. */
export function partialLabel(s: Pick<AuditStats, 'partial'>): string | null {
  return s.partial ? `PARTIAL: ${s.partial.done} of ${s.partial.total} items` : null
}

/** Why the statistics are partial and what that means, to stand after the partial label; null for a finished audit. */
export function partialNote(s: Pick<AuditStats, 'partial'>): string | null {
  const p = s.partial
  if (!p) return null
  return `(audit ${p.state}${p.failed ? `, ${p.failed} failed` : ''}): these statistics cover only the items explained so far and will change if the audit goes on.`
}

/** The partial label with its note; null for a finished audit. */
export function partialText(s: Pick<AuditStats, 'partial'>): string | null {
  return s.partial ? `${partialLabel(s)} ${partialNote(s)}` : null
}
