import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AuditStats } from '@common/audit'
import { AppError, isAppError } from '@common/errors'
import type { ReportOptions } from '@common/methods/reports'
import type { Bookmark, ClassDef } from '@common/types'
import { describeMapping } from '../audit/classMapping'
import { throwIfAborted } from '../cancellation'
import { auditJobParams } from '../audit/jobs'
import { auditStats, imageName, segmentPlace } from '../audit/stats'
import { loadImage } from '../datasets/import'
import { getJob } from '../jobs/status'
import { appRoot } from '../paths'
import { bookmarkSubject, subjectNotes, subjectThumbnails } from '../bookmarks/subject'
import { requestThumbnail, saliencyThumbnail } from '../explain/thumbnails'
import type { Project } from '../store/project'

/** Everything a report prints, gathered from the project first so the PDF layout is a pure function of it. */
export interface ReportData {
  meta: ReportMeta
  stats: AuditStats
  cases: ReportCase[]
  /** Thumbnails of the alerts' examples, by explanation id (empty without the alerts section). */
  examples: Map<number, ExampleThumbnails>
}

/** The thumbnails' pixel width in an alert row: they print about 55 pt wide. */
export const EXAMPLE_THUMB_WIDTH = 160

/** An alert example's image with the request outlined and its saliency overlay (JPEG), or why there are none. */
export type ExampleThumbnails = { image: Buffer; saliency: Buffer; aspect: number } | { problem: string }

export interface ReportMeta {
  title: string
  projectName: string
  projectPath: string
  dataset: { id: number; name: string; format: string; images: number; split: string | null }
  model: { id: number; name: string; architecture: string; contentHash: string }
  /** How the model's classes were matched to the dataset's when the lists differ (see classMapping); else absent. */
  classMapping?: string
  job: { id: number; state: string; createdAt: string; done: number; failed: number; total: number }
  method: string
  preset: string
  /** The saliency parameters the audit ran with (after preset and overrides). */
  params: Record<string, unknown>
  selection: { classes: string[] | null; kinds: string[]; minArea: number; sampleSize: number | null; samplePerPair: number | null; seed: number }
  appVersion: string
  generatedAt: Date
}

/** One bookmarked case: what was bookmarked, where, the engineers' notes, and its three thumbnails (PNG). */
export interface ReportCase {
  bookmarkId: number
  title: string
  tags: string[]
  target: string
  imageId: number | null
  imagePath: string | null
  /** The image as a reader finds it in the dataset: file name and split. */
  imageName: { name: string; split: string | null } | null
  /** `x`, `y`: the centre of the segment's bounding box, image pixels. */
  segment: { id: number; kind: string; gt: string; pred: string; area: number; x: number; y: number } | null
  explanation: { id: number; method: string; className: string } | null
  notes: { body: string; createdAt: string }[]
  /** JPEG or PNG images of equal size; `aspect` is their height over width. */
  thumbnails: { image: Buffer; prediction: Buffer | null; saliency: Buffer; aspect: number } | null
  /** Why there are no thumbnails (the image file moved, say); the case is still listed. */
  problem: string | null
}

export interface CollectHooks {
  onProgress?: (phase: string, done: number, total: number) => void
  signal?: AbortSignal
  now?: () => Date
}

function appVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

const className = (classes: ClassDef[], id: number | null): string => (id === null ? '-' : (classes.find((c) => c.id === id)?.name ?? `class ${id}`))

function reportMeta(project: Project, stats: AuditStats, options: ReportOptions, now: Date): ReportMeta {
  const params = auditJobParams(project, stats.jobId)
  const dataset = project.datasets.get(stats.datasetId)
  const model = project.models.get(stats.modelId)
  const job = getJob(project, stats.jobId)!
  const { method: _m, ...saliency } = params.saliency as Record<string, unknown>
  const classMapping = params.classMapping ? describeMapping(params.classMapping) : ''
  return {
    title: options.title ?? 'Context bias report',
    projectName: project.meta.get('name') ?? project.path,
    projectPath: project.path,
    dataset: { id: stats.datasetId, name: dataset?.name ?? `dataset ${stats.datasetId}`, format: dataset?.format ?? '-', images: dataset?.imageCount ?? 0, split: params.split },
    model: { id: stats.modelId, name: model?.name ?? `model ${stats.modelId}`, architecture: model?.architecture ?? '-', contentHash: model?.contentHash ?? '-' },
    ...(classMapping ? { classMapping } : {}),
    job: { id: job.id, state: job.state, createdAt: job.createdAt, done: job.done, failed: job.failed, total: job.total },
    method: stats.method,
    preset: params.preset,
    params: saliency,
    selection: {
      classes: params.selection.classes?.map((id) => className(stats.classes, id)) ?? null,
      kinds: params.selection.kinds,
      minArea: params.selection.minArea,
      sampleSize: params.selection.sampleSize,
      // Jobs from before per-pair sampling have no such key.
      samplePerPair: (params.selection as { samplePerPair?: number | null }).samplePerPair ?? null,
      seed: params.selection.seed
    },
    appVersion: appVersion(),
    generatedAt: now
  }
}

async function reportCase(project: Project, b: Bookmark, stats: AuditStats): Promise<ReportCase> {
  const base: ReportCase = {
    bookmarkId: b.id,
    title: b.title,
    tags: b.tags,
    target: `${b.targetKind} ${b.targetId}`,
    imageId: null,
    imagePath: null,
    imageName: null,
    segment: null,
    explanation: null,
    notes: [],
    thumbnails: null,
    problem: null
  }
  const subject = bookmarkSubject(project, b)
  if (!subject) return { ...base, problem: `the bookmarked ${b.targetKind} is no longer in the project` }
  const { image, segment, explanation } = subject

  const notes = subjectNotes(project, subject)

  const filled: ReportCase = {
    ...base,
    imageId: image.id,
    imagePath: image.path,
    imageName: imageName(image),
    segment: segment
      ? {
          id: segment.id,
          kind: segment.kind,
          gt: className(stats.classes, segment.gtClass),
          pred: className(stats.classes, segment.predClass),
          area: segment.area,
          x: segmentPlace(segment, '').x,
          y: segmentPlace(segment, '').y
        }
      : null,
    explanation: explanation ? { id: explanation.id, method: explanation.method, className: className(stats.classes, explanation.classId) } : null,
    notes: notes.map((n) => ({ body: n.body, createdAt: n.createdAt }))
  }
  try {
    return { ...filled, thumbnails: await subjectThumbnails(project, subject, { modelId: stats.modelId, classes: stats.classes }) }
  } catch (err) {
    if (!isAppError(err)) throw err
    return { ...filled, problem: err.message }
  }
}

/**
 * Small thumbnails of every alert's examples (the image with the request outlined, and the saliency over it), by
 * explanation id; an example whose image cannot be read gets the reason instead.
 */
async function exampleThumbnails(project: Project, stats: AuditStats, hooks: CollectHooks): Promise<Map<number, ExampleThumbnails>> {
  const ids = [...new Set([...stats.alerts, ...stats.insufficient].flatMap((a) => a.examples.map((e) => e.explanationId)))]
  const out = new Map<number, ExampleThumbnails>()
  for (const [i, id] of ids.entries()) {
    throwIfAborted(hooks.signal, 'The report was cancelled')
    const explanation = project.explanations.get(id)
    const image = explanation ? project.datasets.image(explanation.imageId) : null
    if (!explanation || !image) {
      out.set(id, { problem: 'the explanation is no longer in the project' })
      continue
    }
    try {
      const rgb = await loadImage(project, image.id)
      out.set(id, {
        image: await requestThumbnail(rgb, explanation.request, EXAMPLE_THUMB_WIDTH),
        saliency: await saliencyThumbnail(rgb, explanation, explanation.request, EXAMPLE_THUMB_WIDTH),
        aspect: rgb.height / rgb.width
      })
    } catch (err) {
      if (!isAppError(err)) throw err
      out.set(id, { problem: err.message })
    }
    hooks.onProgress?.('alert examples', i + 1, ids.length)
  }
  return out
}

/** Statistics, title-page facts and bookmarked cases of the chosen audit job. Thumbnails only when the section is wanted. */
export async function collectReportData(project: Project, options: ReportOptions, hooks: CollectHooks = {}): Promise<ReportData> {
  const { sections: _s, title: _t, ...statsOptions } = options
  hooks.onProgress?.('statistics', 0, 1)
  const stats = await auditStats(project, statsOptions)
  hooks.onProgress?.('statistics', 1, 1)
  const meta = reportMeta(project, stats, options, hooks.now?.() ?? new Date())
  const examples = options.sections.includes('alerts') ? await exampleThumbnails(project, stats, hooks) : new Map<number, ExampleThumbnails>()
  const cases: ReportCase[] = []
  if (options.sections.includes('bookmarks')) {
    const bookmarks = project.bookmarks.list().sort((a, b) => a.id - b.id)
    for (const [i, b] of bookmarks.entries()) {
      throwIfAborted(hooks.signal, 'The report was cancelled')
      cases.push(await reportCase(project, b, stats))
      hooks.onProgress?.('bookmarks', i + 1, bookmarks.length)
    }
  }
  return { meta, stats, cases, examples }
}
