import { PAIR_SEGMENT_SORTS, type PairSegmentSort } from '@common/methods/viewer'

/**
 * The error-case screen's state in the URL query (like the dataset browser's), so a cell of a matrix can be
 * bookmarked and reopened: `?dataset=1&model=2&split=val&unit=segments&min=16&cell=7-6&sort=confidence&asc=1`.
 * Malformed values are dropped rather than failing the page.
 */
export type MatrixUnit = 'pixels' | 'segments'

export interface ErrorsState {
  datasetId?: number
  modelId?: number
  split?: string
  unit: MatrixUnit
  /** Segments smaller than this many pixels are left out of the segment counts and lists. */
  minArea?: number
  /** The selected cell: ground-truth class `gt` predicted as `pred`. */
  cell?: { gt: number; pred: number }
  sort: PairSegmentSort
  descending: boolean
}

type Query = Record<string, string | null | (string | null)[] | undefined>

const first = (v: Query[string]): string | undefined => (Array.isArray(v) ? (v[0] ?? undefined) : (v ?? undefined))
const positiveInt = (v: Query[string]): number | undefined => {
  const s = first(v)
  return s !== undefined && /^[1-9]\d*$/.test(s) ? Number(s) : undefined
}

export function errorsStateFromQuery(q: Query): ErrorsState {
  const state: ErrorsState = { unit: first(q.unit) === 'segments' ? 'segments' : 'pixels', sort: 'area', descending: first(q.asc) !== '1' }
  const sort = first(q.sort)
  if (sort && (PAIR_SEGMENT_SORTS as readonly string[]).includes(sort)) state.sort = sort as PairSegmentSort
  const datasetId = positiveInt(q.dataset)
  if (datasetId) state.datasetId = datasetId
  const modelId = positiveInt(q.model)
  if (modelId) state.modelId = modelId
  const split = first(q.split)
  if (split) state.split = split
  const minArea = positiveInt(q.min)
  if (minArea && minArea > 1) state.minArea = minArea
  const cell = first(q.cell)?.match(/^(\d+)-(\d+)$/)
  if (cell) state.cell = { gt: Number(cell[1]), pred: Number(cell[2]) }
  return state
}

export function queryFromErrorsState(s: ErrorsState): Record<string, string> {
  const q: Record<string, string> = {}
  if (s.datasetId) q.dataset = String(s.datasetId)
  if (s.modelId) q.model = String(s.modelId)
  if (s.split) q.split = s.split
  if (s.unit === 'segments') q.unit = 'segments'
  if (s.minArea && s.minArea > 1) q.min = String(s.minArea)
  if (s.cell) q.cell = `${s.cell.gt}-${s.cell.pred}`
  if (s.sort !== 'area') q.sort = s.sort
  if (!s.descending) q.asc = '1'
  return q
}

/** "812", "12.3k", "4.56M": pixel counts of a whole dataset do not fit a matrix cell in full. */
export function compactCount(n: number): string {
  if (n < 1000) return String(n)
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 2 : n < 100_000 ? 1 : 0)}k`
  return `${(n / 1_000_000).toFixed(n < 10_000_000 ? 2 : 1)}M`
}
