/**
 * Screen state in the URL query, so a view can be bookmarked, shared and reopened as it was. Readers take what
 * vue-router hands over (a value may be repeated or bare) and return undefined for anything malformed: a hand-edited
 * or stale link opens the screen with that choice unset instead of failing it.
 */
export type Query = Record<string, string | null | (string | null)[] | undefined>
export type Value = Query[string]

/** The first of a repeated key, as a link built by hand may repeat one. */
export const first = (v: Value): string | undefined => (Array.isArray(v) ? (v[0] ?? undefined) : (v ?? undefined))

/** Row ids: 0 and signs are never ids, so they read as unset. */
export function positiveInt(v: Value): number | undefined {
  const s = first(v)
  return s !== undefined && /^\d+$/.test(s) && Number(s) > 0 ? Number(s) : undefined
}

/** `1` or `0`; a filter left out is neither. */
export const flag = (v: Value): boolean | undefined => (first(v) === '1' ? true : first(v) === '0' ? false : undefined)
export const flagParam = (b: boolean): string => (b ? '1' : '0')

/** `6,7`: class ids, where 0 is a class; malformed entries are skipped, not the list. */
export const idList = (v: Value): number[] | undefined => {
  const ids = first(v)
    ?.split(',')
    .filter((s) => /^\d+$/.test(s))
    .map(Number)
  return ids?.length ? ids : undefined
}

/** Dataset, model and split: what both the dataset browser and the error-case screen are opened on. */
export interface Scope {
  datasetId?: number
  modelId?: number
  split?: string
}
export function scopeFromQuery(q: Query): Scope {
  const scope: Scope = {}
  const datasetId = positiveInt(q.dataset)
  if (datasetId) scope.datasetId = datasetId
  const modelId = positiveInt(q.model)
  if (modelId) scope.modelId = modelId
  const split = first(q.split)
  if (split) scope.split = split
  return scope
}
export function scopeParams(s: Scope): Record<string, string> {
  const q: Record<string, string> = {}
  if (s.datasetId) q.dataset = String(s.datasetId)
  if (s.modelId) q.model = String(s.modelId)
  if (s.split) q.split = s.split
  return q
}

/** A ground-truth class and what the model predicted for it, written `gt-pred` (`7-6`: rider predicted as person). */
export interface ClassPair {
  gt: number
  pred: number
}
export function classPair(v: Value): ClassPair | undefined {
  const m = first(v)?.match(/^(\d+)-(\d+)$/)
  return m ? { gt: Number(m[1]), pred: Number(m[2]) } : undefined
}
export const classPairParam = (p: ClassPair): string => `${p.gt}-${p.pred}`

/** What the image view opens on: an image, optionally under a model, with a segment picked or an explanation shown. */
export interface ImageTarget {
  imageId?: number
  modelId?: number
  segmentId?: number
  explanationId?: number
}

export const imageTargetFromQuery = (q: Query): ImageTarget => ({
  imageId: positiveInt(q.id),
  modelId: positiveInt(q.model),
  segmentId: positiveInt(q.segment),
  explanationId: positiveInt(q.explanation)
})

/** The route to the image view; every screen that links to an image goes through here. */
export function imageLink(t: ImageTarget & { imageId: number }): { path: '/image'; query: Record<string, string> } {
  const query: Record<string, string> = { id: String(t.imageId) }
  if (t.modelId !== undefined) query.model = String(t.modelId)
  if (t.segmentId !== undefined) query.segment = String(t.segmentId)
  if (t.explanationId !== undefined) query.explanation = String(t.explanationId)
  return { path: '/image', query }
}
