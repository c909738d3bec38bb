import type { BiasMatrixData } from '@common/benchmark'

export function filledRowIndices(m: BiasMatrixData): number[] {
  return m.rowLabels.map((_, i) => i).filter((i) => m.values[i].some((v) => v !== null))
}

/** White to dark blue over [0, max]; dark cells get light text so the number stays readable. */
export function cellColor(v: number | null, max: number): Record<string, string> {
  if (v === null) return {}
  const t = Math.max(0, Math.min(1, max > 0 ? v / max : 0))
  const from = [247, 251, 255]
  const to = [8, 48, 107]
  const c = from.map((a, k) => Math.round(a + (to[k] - a) * t))
  return { background: `rgb(${c.join(',')})`, color: t > 0.55 ? '#fff' : '#111' }
}

export function matrixMax(ms: BiasMatrixData[]): number {
  let m = 0
  for (const x of ms) for (const row of x.values) for (const v of row) if (v !== null && v > m) m = v
  return m > 0 ? m : 1
}
