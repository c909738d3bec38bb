import { segmentLabel } from '@common/charts/evidence'
import type { BookmarkCase } from '@common/methods/annotations'
import { flag, type Query } from '../../router/query'

/**
 * Which bookmarks the screen shows, kept in the URL (`?tag=failure&tag=rider`, `?untagged=1`) so a filtered list can
 * be linked and reopened. Chosen tags narrow: a bookmark must carry every one of them.
 */
export interface BookmarkFilter {
  tags: string[]
  untagged: boolean
}

/** Tags may hold commas, so each is its own `tag` parameter; empty and repeated ones are dropped. */
export function filterFromQuery(q: Query): BookmarkFilter {
  const raw = q.tag
  const tags = (Array.isArray(raw) ? raw : [raw]).filter((t): t is string => typeof t === 'string' && t.length > 0)
  return { tags: [...new Set(tags)], untagged: flag(q.untagged) === true }
}

export function filterQuery(f: BookmarkFilter): Record<string, string | string[]> {
  if (f.untagged) return { untagged: '1' }
  return f.tags.length ? { tag: f.tags } : {}
}

export const matches = (c: BookmarkCase, f: BookmarkFilter): boolean =>
  f.untagged ? c.bookmark.tags.length === 0 : f.tags.every((t) => c.bookmark.tags.includes(t))

/** Tags with how many bookmarks carry each, most used first, then by name. */
export function tagCounts(cases: BookmarkCase[]): { tag: string; count: number }[] {
  const counts = new Map<string, number>()
  for (const c of cases) for (const t of c.bookmark.tags) counts.set(t, (counts.get(t) ?? 0) + 1)
  return [...counts].map(([tag, count]) => ({ tag, count })).sort((a, b) => b.count - a.count || a.tag.localeCompare(b.tag))
}

/** A tag chip pressed: added to or taken from the chosen tags; choosing a tag leaves "untagged". */
export function toggleTag(f: BookmarkFilter, tag: string): BookmarkFilter {
  return { untagged: false, tags: f.tags.includes(tag) ? f.tags.filter((t) => t !== tag) : [...f.tags, tag] }
}

/** What a bookmark stands for, by the names a reader finds in the dataset: file and split, class, place. */
export function describeCase(c: BookmarkCase): string {
  if (!c.image) return c.problem ?? 'no longer in the project'
  const parts = [`${c.image.name}${c.image.split ? ` (${c.image.split})` : ''}`]
  if (c.segment) parts.push(segmentLabel(c.segment))
  if (c.explanation) parts.push(`${c.explanation.method} explanation of ${c.explanation.className}`)
  return parts.join(' · ')
}
