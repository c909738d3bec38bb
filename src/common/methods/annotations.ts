import { z } from 'zod'
import { BOOKMARK_TARGETS, BookmarkSchema, Id, NoteSchema } from '../types'

const targetKind = z.enum(BOOKMARK_TARGETS)

/** Bookmarks and notes on images, segments and explanations. */
export const annotationMethods = {
  'bookmarks:list': {
    input: z.object({ targetKind: targetKind.optional(), tag: z.string().optional() }).strict(),
    output: z.array(BookmarkSchema)
  },

  'bookmarks:add': {
    input: z
      .object({
        targetKind,
        targetId: Id,
        title: z.string().max(500).default(''),
        tags: z.array(z.string().min(1).max(64)).max(32).default([])
      })
      .strict(),
    output: BookmarkSchema
  },

  'bookmarks:remove': { input: z.object({ id: Id }).strict(), output: z.object({ removed: z.boolean() }) },

  'notes:list': { input: z.object({ targetKind, targetId: Id }).strict(), output: z.array(NoteSchema) },

  'notes:add': {
    input: z.object({ targetKind, targetId: Id, body: z.string().min(1).max(20_000) }).strict(),
    output: NoteSchema
  }
} as const
