import type { AuditStats, Evidence, ExampleRef } from '../audit'
import { count, percent } from './format'

// What a figure rests on and where its examples are, in the words the screen, the CLI and the PDF share.

/** "n=12, 5 img, 30% rec.": the short form under a column or in a cell. */
export function evidenceShort(e: Evidence): string {
  return `n=${e.explanations}, ${e.images} img${e.recoveryRate === null ? '' : `, ${percent(e.recoveryRate, 0)} rec.`}`
}

/** "12 explanations on 5 images; 12 of 40 recovered (30%)": what a figure rests on, in words. */
export function evidenceText(e: Evidence): string {
  const n = `${count(e.explanations, 'explanation')} on ${count(e.images, 'image')}`
  const recovery = e.recoveryRate === null ? '' : `; ${e.recovered} of ${e.recovered + e.notRecovered} recovered (${percent(e.recoveryRate, 0)})`
  return `${n}${recovery}${faithfulnessText(e)}`
}

/** "; deletion faithfulness 0.41 (mean of 24)", or nothing when no counted explanation has the figure. */
function faithfulnessText(e: Evidence): string {
  const f = e.faithfulness
  if (!f || f.n === 0 || f.mean === null) return ''
  return `; deletion faithfulness ${f.mean.toFixed(2)} (mean of ${f.n})`
}

/** An example as a reader finds it: "00076.png (val), rider at (312, 140), 412 px". Ids stay link targets. */
export function exampleLabel(e: ExampleRef): string {
  const image = `${e.image.name}${e.image.split ? ` (${e.image.split})` : ''}`
  return e.segment ? `${image}, ${e.segment.className} at (${e.segment.x}, ${e.segment.y}), ${e.segment.area} px` : image
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
