import { z } from 'zod'
import { BOOKMARK_TARGETS, BookmarkSchema, Id, NoteSchema } from '../types'

const targetKind = z.enum(BOOKMARK_TARGETS)

/**
 * A bookmark as the Bookmarks screen lists it: what it stands for by the names a reader finds in the dataset (file,
 * split, class, place), its notes, and the ids only as link targets. `problem` says why the image is gone.
 */
export const BookmarkCaseSchema = z.object({
  bookmark: BookmarkSchema,
  image: z.object({ id: Id, name: z.string(), split: z.string().nullable(), path: z.string(), dataset: z.string() }).nullable(),
  /** `x`, `y`: the centre of the segment's bounding box, image pixels. */
  segment: z
    .object({ id: Id, kind: z.string(), gt: z.string(), pred: z.string(), area: z.number().int(), x: z.number().int(), y: z.number().int() })
    .nullable(),
  /** The bookmarked explanation, or the latest one of the segment or image. */
  explanation: z.object({ id: Id, method: z.string(), className: z.string(), modelId: Id }).nullable(),
  /** Notes on the bookmarked thing and on what it belongs to (the image's notes apply to its segment's bookmark). */
  notes: z.array(NoteSchema),
  problem: z.string().nullable()
})
export type BookmarkCase = z.infer<typeof BookmarkCaseSchema>

export const BookmarkThumbnailsSchema = z.object({
  /** Data URLs: the image (request outlined), the stored prediction in class colours, the saliency over the image. */
  image: z.string().nullable(),
  prediction: z.string().nullable(),
  saliency: z.string().nullable(),
  /** Why there are none (the image file moved, say). */
  problem: z.string().nullable()
})
export type BookmarkThumbnails = z.infer<typeof BookmarkThumbnailsSchema>

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

  /** Every bookmark with what it stands for and its notes, newest first; thumbnails come apart ('bookmarks:thumbnails'). */
  'bookmarks:cases': { input: z.object({}).strict(), output: z.array(BookmarkCaseSchema) },

  /**
   * Small thumbnails of bookmarks (image, prediction, saliency), `width` pixels wide, by bookmark id; made from the
   * image once and kept while the app runs. A page of bookmarks at a time.
   */
  'bookmarks:thumbnails': {
    input: z.object({ ids: z.array(Id).max(100), width: z.number().int().min(32).max(320).default(160) }).strict(),
    output: z.record(z.string(), BookmarkThumbnailsSchema)
  },

  'bookmarks:remove': { input: z.object({ id: Id }).strict(), output: z.object({ removed: z.boolean() }) },

  'notes:list': { input: z.object({ targetKind, targetId: Id }).strict(), output: z.array(NoteSchema) },

  'notes:add': {
    input: z.object({ targetKind, targetId: Id, body: z.string().min(1).max(20_000) }).strict(),
    output: NoteSchema
  }
} as const
