import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AuditStats } from '@common/audit'
import { AppError, isAppError } from '@common/errors'
import type { ReportOptions } from '@common/methods/reports'
import type { Bookmark, ClassDef } from '@common/types'
import { describeMapping } from '../audit/classMapping'
import { auditJobParams } from '../audit/jobs'
import { auditStats, imageName, segmentPlace } from '../audit/stats'
import { loadImage } from '../datasets/import'
import { getJob } from '../jobs/status'
import { appRoot } from '../paths'
import type { Project } from '../store/project'
import type { ExplanationRecord } from '../store/repositories/explanations'
import { imageThumbnail, labelThumbnail, saliencyThumbnail } from './thumbnails'

/** Everything a report prints, gathered from the project first so the PDF layout is a pure function of it. */
export interface ReportData {
  meta: ReportMeta
  stats: AuditStats
  cases: ReportCase[]
}

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

/** The explanation a bookmark stands for: itself, the latest one of its segment, or the latest one on its image. */
function caseExplanation(project: Project, b: Bookmark, imageId: number, segmentId: number | null): ExplanationRecord | null {
  if (b.targetKind === 'explanation') return project.explanations.get(b.targetId)
  const onImage = project.explanations.forImage(imageId)
  const mine = segmentId === null ? onImage : onImage.filter((e) => e.segmentId === segmentId)
  return mine.at(-1) ?? null
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
  let imageId: number | null = null
  let segmentId: number | null = null
  if (b.targetKind === 'image') imageId = b.targetId
  else if (b.targetKind === 'segment') {
    imageId = project.segments.get(b.targetId)?.imageId ?? null
    segmentId = b.targetId
  } else {
    const e = project.explanations.get(b.targetId)
    imageId = e?.imageId ?? null
    segmentId = e?.segmentId ?? null
  }
  const image = imageId === null ? null : project.datasets.image(imageId)
  if (!image) return { ...base, problem: `the bookmarked ${b.targetKind} is no longer in the project` }
  const explanation = caseExplanation(project, b, image.id, segmentId)
  segmentId ??= explanation?.segmentId ?? null
  const segment = segmentId === null ? null : project.segments.get(segmentId)

  // Notes on the bookmarked thing and on what it belongs to: a note on the image applies to its segment's case too.
  const targets: [Bookmark['targetKind'], number][] = [['image', image.id]]
  if (segment) targets.push(['segment', segment.id])
  if (explanation) targets.push(['explanation', explanation.id])
  const notes = targets.flatMap(([kind, id]) => project.notes.list(kind, id)).sort((a, b) => a.id - b.id)

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
    const rgb = await loadImage(project, image.id)
    const modelId = explanation?.modelId ?? segment?.modelId ?? stats.modelId
    const prediction = project.predictions.get(modelId, image.id)
    const request = explanation?.request ?? (segment ? project.segments.mask(segment.id) : null) ?? new Uint8Array(rgb.width * rgb.height)
    return {
      ...filled,
      thumbnails: {
        image: await imageThumbnail(rgb),
        prediction: prediction ? await labelThumbnail(prediction.labelMap, rgb.width, rgb.height, stats.classes) : null,
        saliency: await saliencyThumbnail(rgb, explanation, request),
        aspect: rgb.height / rgb.width
      }
    }
  } catch (err) {
    if (!isAppError(err)) throw err
    return { ...filled, problem: err.message }
  }
}

/** Statistics, title-page facts and bookmarked cases of the chosen audit job. Thumbnails only when the section is wanted. */
export async function collectReportData(project: Project, options: ReportOptions, hooks: CollectHooks = {}): Promise<ReportData> {
  const { sections: _s, title: _t, ...statsOptions } = options
  hooks.onProgress?.('statistics', 0, 1)
  const stats = await auditStats(project, statsOptions)
  hooks.onProgress?.('statistics', 1, 1)
  const meta = reportMeta(project, stats, options, hooks.now?.() ?? new Date())
  const cases: ReportCase[] = []
  if (options.sections.includes('bookmarks')) {
    const bookmarks = project.bookmarks.list().sort((a, b) => a.id - b.id)
    for (const [i, b] of bookmarks.entries()) {
      if (hooks.signal?.aborted) throw new AppError('CANCELLED', 'The report was cancelled')
      cases.push(await reportCase(project, b, stats))
      hooks.onProgress?.('bookmarks', i + 1, bookmarks.length)
    }
  }
  return { meta, stats, cases }
}
