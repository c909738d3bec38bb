import { isAppError } from '@common/errors'
import type { BookmarkCase, BookmarkThumbnails } from '@common/methods/annotations'
import type { ClassDef } from '@common/types'
import { imageName, segmentPlace } from '../audit/stats'
import type { Project } from '../store/project'
import { bookmarkSubject, imageClasses, subjectNotes, subjectThumbnails, type BookmarkSubject } from './subject'

const className = (classes: ClassDef[], id: number | null): string => (id === null ? '-' : (classes.find((c) => c.id === id)?.name ?? `class ${id}`))

/** Every bookmark of the project, newest first, with what it stands for named as a reader finds it. */
export function bookmarkCases(project: Project): BookmarkCase[] {
  return project.bookmarks.list().map((bookmark) => {
    const s = bookmarkSubject(project, bookmark)
    if (!s) return { bookmark, image: null, segment: null, explanation: null, notes: [], problem: `the bookmarked ${bookmark.targetKind} is no longer in the project` }
    const classes = imageClasses(project, s.image)
    const name = imageName(s.image)
    const place = s.segment ? segmentPlace(s.segment, '') : null
    return {
      bookmark,
      image: { id: s.image.id, name: name.name, split: name.split, path: s.image.path, dataset: project.datasets.get(s.image.datasetId)?.name ?? '' },
      segment: s.segment && place
        ? { id: s.segment.id, kind: s.segment.kind, gt: className(classes, s.segment.gtClass), pred: className(classes, s.segment.predClass), area: s.segment.area, x: place.x, y: place.y }
        : null,
      explanation: s.explanation ? { id: s.explanation.id, method: s.explanation.method, className: className(classes, s.explanation.classId), modelId: s.explanation.modelId } : null,
      notes: subjectNotes(project, s),
      problem: null
    }
  })
}

const dataUrl = (mime: string, b: Buffer): string => `data:${mime};base64,${b.toString('base64')}`

/**
 * Thumbnails already made, by project file, what the bookmark shows and size: decoding a 2048 x 1024 image takes
 * tens of milliseconds, so revisiting the screen must not redo it. A new explanation of the bookmarked segment is a
 * new key. The oldest entries go first beyond the limit (about 30 KB each at 160 px).
 */
const CACHE_LIMIT = 600
const cache = new Map<string, BookmarkThumbnails>()

function cacheKey(project: Project, s: BookmarkSubject, width: number): string {
  return [project.path, s.image.id, s.image.contentHash, s.segment?.id ?? '-', s.explanation?.id ?? '-', width].join('|')
}

/** Thumbnails of the given bookmarks by id; a bookmark whose image cannot be read gets the reason instead. */
export async function bookmarkThumbnails(project: Project, ids: number[], width: number): Promise<Record<string, BookmarkThumbnails>> {
  const wanted = new Set(ids)
  const out: Record<string, BookmarkThumbnails> = {}
  for (const b of project.bookmarks.list().filter((x) => wanted.has(x.id))) {
    const s = bookmarkSubject(project, b)
    if (!s) {
      out[String(b.id)] = { image: null, prediction: null, saliency: null, problem: `the bookmarked ${b.targetKind} is no longer in the project` }
      continue
    }
    const key = cacheKey(project, s, width)
    let thumbs = cache.get(key)
    if (!thumbs) {
      try {
        const t = await subjectThumbnails(project, s, { width, outlineImage: true })
        thumbs = { image: dataUrl('image/jpeg', t.image), prediction: t.prediction ? dataUrl('image/png', t.prediction) : null, saliency: dataUrl('image/jpeg', t.saliency), problem: null }
      } catch (err) {
        if (!isAppError(err)) throw err
        // Not cached: the file may be back next time.
        out[String(b.id)] = { image: null, prediction: null, saliency: null, problem: err.message }
        continue
      }
      cache.set(key, thumbs)
      if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!)
    }
    out[String(b.id)] = thumbs
  }
  return out
}
