import { PAIR_SEGMENT_SORTS, type PairSegmentSort } from '@common/methods/viewer'
import { classPair, classPairParam, first, positiveInt, scopeFromQuery, scopeParams, type ClassPair, type Query } from '../../router/query'

/**
 * The error-case screen's state in the URL query, so a cell of a matrix can be bookmarked and reopened:
 * `?dataset=1&model=2&split=val&unit=segments&min=16&cell=7-6&sort=confidence&asc=1`.
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
  cell?: ClassPair
  sort: PairSegmentSort
  descending: boolean
}

export function errorsStateFromQuery(q: Query): ErrorsState {
  const state: ErrorsState = { unit: first(q.unit) === 'segments' ? 'segments' : 'pixels', sort: 'area', descending: first(q.asc) !== '1' }
  const sort = first(q.sort)
  if (sort && (PAIR_SEGMENT_SORTS as readonly string[]).includes(sort)) state.sort = sort as PairSegmentSort
  Object.assign(state, scopeFromQuery(q))
  const minArea = positiveInt(q.min)
  if (minArea && minArea > 1) state.minArea = minArea
  const cell = classPair(q.cell)
  if (cell) state.cell = cell
  return state
}

export function queryFromErrorsState(s: ErrorsState): Record<string, string> {
  const q: Record<string, string> = scopeParams(s)
  if (s.unit === 'segments') q.unit = 'segments'
  if (s.minArea && s.minArea > 1) q.min = String(s.minArea)
  if (s.cell) q.cell = classPairParam(s.cell)
  if (s.sort !== 'area') q.sort = s.sort
  if (!s.descending) q.asc = '1'
  return q
}
