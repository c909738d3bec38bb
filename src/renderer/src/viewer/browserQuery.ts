import type { ImageFilter, ImageSort } from '@common/methods/viewer'
import { IMAGE_SORTS } from '@common/methods/viewer'
import { first, flag, flagParam, idList, scopeFromQuery, scopeParams, type Query, type Value } from '../router/query'

/**
 * The dataset browser's state in the URL query: `?dataset=1&model=2&error=7-6&classes=6,7&bookmarked=1&sort=errors&desc=1`.
 * An error kind may leave one side open: `error=7-any` (riders predicted as anything else), `error=any-6`.
 */
export interface BrowserState extends ImageFilter {
  sort: ImageSort
  descending: boolean
}

export function stateFromQuery(q: Query): BrowserState {
  const state: BrowserState = { sort: 'id', descending: false }
  const sort = first(q.sort)
  if (sort && (IMAGE_SORTS as readonly string[]).includes(sort)) state.sort = sort as ImageSort
  if (first(q.desc) === '1') state.descending = true
  Object.assign(state, scopeFromQuery(q))
  const search = first(q.q)
  if (search) state.search = search
  const classes = idList(q.classes)
  if (classes) state.classes = classes
  const error = errorKind(q.error)
  if (error) state.error = error
  const bookmarked = flag(q.bookmarked)
  if (bookmarked !== undefined) state.bookmarked = bookmarked
  const explained = flag(q.explained)
  if (explained !== undefined) state.explained = explained
  return state
}

type ErrorKind = NonNullable<ImageFilter['error']>

export function errorKind(v: Value): ErrorKind | undefined {
  const m = first(v)?.match(/^(\d+|any)-(\d+|any)$/)
  if (!m || (m[1] === 'any' && m[2] === 'any')) return undefined
  const kind: ErrorKind = {}
  if (m[1] !== 'any') kind.gt = Number(m[1])
  if (m[2] !== 'any') kind.pred = Number(m[2])
  return kind
}
export const errorKindParam = (e: ErrorKind): string => `${e.gt ?? 'any'}-${e.pred ?? 'any'}`

export function queryFromState(s: BrowserState): Record<string, string> {
  const q: Record<string, string> = {}
  if (s.sort !== 'id') q.sort = s.sort
  if (s.descending) q.desc = '1'
  Object.assign(q, scopeParams(s))
  if (s.search) q.q = s.search
  if (s.classes?.length) q.classes = s.classes.join(',')
  if (s.error) q.error = errorKindParam(s.error)
  if (s.bookmarked !== undefined) q.bookmarked = flagParam(s.bookmarked)
  if (s.explained !== undefined) q.explained = flagParam(s.explained)
  return q
}

/** The browser filtered to some images, e.g. those where the model confused a class pair. */
export const browserLink = (filter: ImageFilter): { path: '/datasets'; query: Record<string, string> } => ({
  path: '/datasets',
  query: queryFromState({ sort: 'id', descending: false, ...filter })
})

/** Rows of a virtualized grid to render: the visible ones plus `overscan` on each side. */
export function visibleRows(scrollTop: number, viewportHeight: number, rowHeight: number, rowCount: number, overscan = 2): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan)
  const last = Math.min(rowCount - 1, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan)
  return { first, last }
}
