import type { ImageFilter, ImageSort } from '@common/methods/viewer'
import { IMAGE_SORTS } from '@common/methods/viewer'

/**
 * The dataset browser's state in the URL query, so a filtered view can be bookmarked, shared and reopened.
 * Everything is optional; unknown or malformed values are dropped rather than failing the page.
 */
export interface BrowserState extends ImageFilter {
  sort: ImageSort
  descending: boolean
}

type Query = Record<string, string | null | (string | null)[] | undefined>

const first = (v: Query[string]): string | undefined => (Array.isArray(v) ? (v[0] ?? undefined) : (v ?? undefined))
const int = (v: Query[string]): number | undefined => {
  const s = first(v)
  if (s === undefined || !/^\d+$/.test(s)) return undefined
  return Number(s)
}
const bool = (v: Query[string]): boolean | undefined => (first(v) === '1' ? true : first(v) === '0' ? false : undefined)

export function stateFromQuery(q: Query): BrowserState {
  const state: BrowserState = { sort: 'id', descending: false }
  const sort = first(q.sort)
  if (sort && (IMAGE_SORTS as readonly string[]).includes(sort)) state.sort = sort as ImageSort
  if (first(q.desc) === '1') state.descending = true
  const datasetId = int(q.dataset)
  if (datasetId) state.datasetId = datasetId
  const modelId = int(q.model)
  if (modelId) state.modelId = modelId
  const split = first(q.split)
  if (split) state.split = split
  const search = first(q.q)
  if (search) state.search = search
  const classes = first(q.classes)
    ?.split(',')
    .filter((s) => /^\d+$/.test(s))
    .map(Number)
  if (classes?.length) state.classes = classes
  const err = first(q.error)?.match(/^(\d+)-(\d+)$/)
  if (err) state.error = { gt: Number(err[1]), pred: Number(err[2]) }
  const bookmarked = bool(q.bookmarked)
  if (bookmarked !== undefined) state.bookmarked = bookmarked
  const explained = bool(q.explained)
  if (explained !== undefined) state.explained = explained
  return state
}

export function queryFromState(s: BrowserState): Record<string, string> {
  const q: Record<string, string> = {}
  if (s.sort !== 'id') q.sort = s.sort
  if (s.descending) q.desc = '1'
  if (s.datasetId) q.dataset = String(s.datasetId)
  if (s.modelId) q.model = String(s.modelId)
  if (s.split) q.split = s.split
  if (s.search) q.q = s.search
  if (s.classes?.length) q.classes = s.classes.join(',')
  if (s.error) q.error = `${s.error.gt}-${s.error.pred}`
  if (s.bookmarked !== undefined) q.bookmarked = s.bookmarked ? '1' : '0'
  if (s.explained !== undefined) q.explained = s.explained ? '1' : '0'
  return q
}

/** Rows of a virtualized grid to render: the visible ones plus `overscan` on each side. */
export function visibleRows(scrollTop: number, viewportHeight: number, rowHeight: number, rowCount: number, overscan = 2): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan)
  const last = Math.min(rowCount - 1, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan)
  return { first, last }
}
