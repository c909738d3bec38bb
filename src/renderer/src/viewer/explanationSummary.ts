import type { ExplanationView } from '@common/methods/viewer'
import type { SaliencyMethod } from '@common/saliency'
import type { ClassDef } from '@common/types'
import { fixed } from '../format'
import { NO_CLASS } from './planes'
import { METHOD_NAMES } from './saliencyMethods'

/** A class id as its name; '—' for none or the ignored label, `class 7` for an id the dataset does not list. */
export function classNameIn(classes: ClassDef[], id: number | null | undefined): string {
  return id === null || id === undefined || id === NO_CLASS ? '—' : (classes.find((c) => c.id === id)?.name ?? `class ${id}`)
}

/** One line per explanation, for its list entry and comparison caption: "Context saliency of rider · score 0.912 · …". */
export function explanationSummary(e: ExplanationView, classes: ClassDef[]): string {
  const s = e.summary as { scoreOriginal?: number; scorePerturbed?: number | null; recovered?: boolean | null; faithfulness?: { value: number | null } | null }
  const parts = [`${METHOD_NAMES[e.method as SaliencyMethod] ?? e.method} of ${classNameIn(classes, e.classId)}`]
  if (typeof s.scoreOriginal === 'number') parts.push(`score ${fixed(s.scoreOriginal, 3)}`)
  if (typeof s.scorePerturbed === 'number') parts.push(`perturbed ${fixed(s.scorePerturbed, 3)}`)
  if (s.recovered !== null && s.recovered !== undefined) parts.push(s.recovered ? 'recovered' : 'not recovered')
  if (s.faithfulness && typeof s.faithfulness.value === 'number') parts.push(`faithfulness ${fixed(s.faithfulness.value, 2)}`)
  return parts.join(' · ')
}
