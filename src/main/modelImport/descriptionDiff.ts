import type { ModelSidecar } from '@common/modelSidecar'
import { normalisationText } from '@common/modelDescription'

/**
 * What two descriptions of the same weights disagree on, in the terms that change results: the classes each
 * output channel stands for, the ignore id, input size, normalisation, output kind, layout, tensor names and
 * output stride. The name, colours, creation time and free-text architecture are presentation, not meaning.
 */
export function descriptionDifferences(registered: ModelSidecar, other: ModelSidecar): string[] {
  const out: string[] = []
  const classes = (d: ModelSidecar): string => d.classes.map((c) => `${c.id} ${c.name.trim().toLowerCase()}`).join(', ')
  if (classes(registered) !== classes(other)) out.push(`classes ${classes(registered)} vs ${classes(other)}`)
  const field = (label: string, a: unknown, b: unknown): void => {
    if (String(a) !== String(b)) out.push(`${label} ${String(a)} vs ${String(b)}`)
  }
  field('ignore id', registered.ignoreId ?? 'none', other.ignoreId ?? 'none')
  const size = (d: ModelSidecar): string => `${d.input.height}x${d.input.width}x${d.input.channels}`
  field('input', size(registered), size(other))
  if (JSON.stringify(registered.normalisation) !== JSON.stringify(other.normalisation)) {
    const [a, b] = [normalisationText(registered.normalisation), normalisationText(other.normalisation)]
    out.push(a !== b ? `normalisation ${a} vs ${b}` : `normalisation ${JSON.stringify(registered.normalisation)} vs ${JSON.stringify(other.normalisation)}`)
  }
  field('output', registered.output ?? 'probabilities', other.output ?? 'probabilities')
  field('layout', registered.layout ?? 'NHWC', other.layout ?? 'NHWC')
  field('input name', registered.inputName ?? '-', other.inputName ?? '-')
  field('output name', registered.outputName ?? '-', other.outputName ?? '-')
  field('output stride', registered.outputStride ?? 1, other.outputStride ?? 1)
  return out
}
