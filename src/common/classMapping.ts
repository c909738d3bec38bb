import type { ClassMapping } from './audit'

/** Class names are compared trimmed and case-insensitively: "Person" and "person " are one class. */
export const normaliseClassName = (name: string): string => name.trim().toLowerCase()

/** One line for people: how the model's classes count on the dataset. Empty when the lists are identical. */
export function describeMapping(mapping: ClassMapping): string {
  if (mapping.basis === 'identical') return ''
  const moved = mapping.pairs.filter((p) => p.model.id !== p.dataset.id || normaliseClassName(p.model.name) !== normaliseClassName(p.dataset.name))
  const how = mapping.basis === 'explicit' ? 'mapped by the class map given' : 'matched by name'
  const pairs = moved.length > 0 ? `: ${moved.map((p) => `${p.model.name} (model ${p.model.id}) → ${p.dataset.name} (dataset ${p.dataset.id})`).join(', ')}` : ''
  const rest = mapping.unpredicted.length > 0 ? `; the model does not predict the dataset's ${mapping.unpredicted.map((c) => c.name).join(', ')} (their pixels can only count as errors)` : ''
  return `Model classes ${how}${pairs}${rest}`
}
