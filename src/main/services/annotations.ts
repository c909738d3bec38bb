import { AppError } from '@common/errors'
import type { annotationMethods } from '@common/methods/annotations'
import { bookmarkCases, bookmarkThumbnails } from '../bookmarks/cases'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'

export function annotationServices(ctx: ServiceContext): AreaServices<typeof annotationMethods> {
  return {
    'bookmarks:list': async (filter) => ctx.requireProject().bookmarks.list(filter),
    'bookmarks:add': async (input) => ctx.requireProject().bookmarks.add(input),
    'bookmarks:cases': async () => bookmarkCases(ctx.requireProject()),
    'bookmarks:thumbnails': async ({ ids, width }) => bookmarkThumbnails(ctx.requireProject(), ids, width),
    'bookmarks:remove': async ({ id }) => {
      const removed = ctx.requireProject().bookmarks.remove(id)
      if (!removed) throw new AppError('NOT_FOUND', `No bookmark with id ${id}`)
      return { removed }
    },
    'notes:list': async ({ targetKind, targetId }) => ctx.requireProject().notes.list(targetKind, targetId),
    'notes:add': async (input) => ctx.requireProject().notes.add(input)
  }
}
