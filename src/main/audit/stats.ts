import {
  StatsOptionsSchema,
  type AuditStats,
  type StatsOptions,
  type BiasAlert,
  type RequestedClassStats,
  type StatsOptionsInput,
  type Table1Row
} from '@common/audit'
import { AppError, isAppError } from '@common/errors'
import type { ModelSidecar } from '@common/models'
import type { ClassDef } from '@common/types'
import type { Project } from '@main/store/project'
import type { ExplanationRecord } from '@main/store/repositories/explanations'
import { loadLabelMap } from '../datasets/import'
import { upsampleBilinear } from '../saliency'
import { addCounts, bootstrapIntervals, emptyCounts, explanationCounts, requestedObject, summarise, type ContextCounts } from './contextStats'
import { AUDIT_JOB_KIND, auditJobParams } from './jobs'
import { datasetClasses } from './predict'

/** One explanation reduced to what the statistics need. */
export interface CountedExplanation {
  explanationId: number
  segmentId: number | null
  imageId: number
  requestedClass: number
  gtClass: number | null
  predClass: number | null
  kind: string
  counts: ContextCounts
}

export interface StatsInput {
  classes: ClassDef[]
  explanations: CountedExplanation[]
}

const nameOf = (classes: ClassDef[], id: number): string => classes.find((c) => c.id === id)?.name ?? String(id)

/**
 * The statistics from counted explanations (pure; `auditStats` reads them from a project). Per requested class:
 * Fig. 6 shares beside the contour baseline, densities, and bootstrap intervals over images; Table 1 rows per
 * (GT, predicted) pair of correct and misclassified requests; and the alerts.
 */
export function computeStats(
  input: StatsInput,
  optionsInput: StatsOptionsInput = {}
): Pick<AuditStats, 'perClass' | 'table1' | 'alerts'> {
  const options = StatsOptionsSchema.parse(optionsInput)
  const { classes, explanations } = input
  const K = explanations[0]?.counts.mass.length ?? Math.max(0, ...classes.map((c) => c.id)) + 1
  const contextIds = classes.map((c) => c.id).filter((id) => id < K)

  const byRequested = new Map<number, CountedExplanation[]>()
  for (const e of explanations) {
    const list = byRequested.get(e.requestedClass) ?? []
    list.push(e)
    byRequested.set(e.requestedClass, list)
  }

  const perClass: RequestedClassStats[] = []
  const alerts: BiasAlert[] = []
  for (const requested of [...byRequested.keys()].sort((a, b) => a - b)) {
    const list = byRequested.get(requested)!
    const perImage = new Map<number, ContextCounts>()
    for (const e of list) perImage.set(e.imageId, addCounts(perImage.get(e.imageId) ?? emptyCounts(K), e.counts))
    const units = [...perImage.values()]
    const total = units.reduce((acc, u) => addCounts(acc, u), emptyCounts(K))
    const s = summarise(total)
    perClass.push({
      classId: requested,
      name: nameOf(classes, requested),
      explanations: list.length,
      images: units.length,
      objectShare: s.objectShare,
      context: contextIds.map((k) => ({
        classId: k,
        name: nameOf(classes, k),
        share: s.share[k],
        baselineShare: s.baselineShare[k],
        lift: s.lift[k],
        density: s.density[k],
        densityRatio: s.densityRatio[k],
        pixels: total.pixels[k]
      }))
    })

    if (units.length < options.alerts.minImages) continue
    // Both alert statistics per context class, from one set of resamples so their intervals share the draws.
    const ci = bootstrapIntervals(
      units,
      (sample) => {
        const t = sample.reduce((acc, u) => addCounts(acc, u), emptyCounts(K))
        const r = summarise(t)
        return [...contextIds.map((k) => r.share[k] - r.baselineShare[k]), ...contextIds.map((k) => r.densityRatio[k] ?? NaN)]
      },
      { samples: options.bootstrap.samples, seed: options.bootstrap.seed, level: options.bootstrap.level }
    )
    contextIds.forEach((k, j) => {
      const examples = (): BiasAlert['examples'] =>
        list
          .map((e) => {
            const m = e.counts.mass.reduce((a, b) => a + b, 0)
            return { explanationId: e.explanationId, segmentId: e.segmentId, imageId: e.imageId, share: m > 0 ? e.counts.mass[k] / m : 0 }
          })
          .filter((x) => x.share > 0)
          .sort((a, b) => b.share - a.share || a.explanationId - b.explanationId)
          .slice(0, options.alerts.examples)
      const common = {
        requestedClass: requested,
        requestedName: nameOf(classes, requested),
        contextClass: k,
        contextName: nameOf(classes, k),
        share: s.share[k],
        baselineShare: s.baselineShare[k],
        densityRatio: s.densityRatio[k]
      }
      const shareCi = ci[j]
      if (shareCi && shareCi[0] > options.alerts.shareMargin) {
        alerts.push({ ...common, reason: 'share', value: s.share[k] - s.baselineShare[k], ci: shareCi, threshold: options.alerts.shareMargin, examples: examples() })
      }
      const densityCi = ci[contextIds.length + j]
      if (densityCi && densityCi[0] > options.alerts.densityRatio && s.densityRatio[k] !== null) {
        alerts.push({ ...common, reason: 'density', value: s.densityRatio[k]!, ci: densityCi, threshold: options.alerts.densityRatio, examples: examples() })
      }
    })
  }

  const pairs = new Map<string, { gt: number; pred: number; n: number; counts: ContextCounts }>()
  for (const e of explanations) {
    if ((e.kind !== 'correct' && e.kind !== 'misclassified') || e.gtClass === null || e.predClass === null) continue
    const key = `${e.gtClass}:${e.predClass}`
    const entry = pairs.get(key) ?? { gt: e.gtClass, pred: e.predClass, n: 0, counts: emptyCounts(K) }
    entry.n++
    addCounts(entry.counts, e.counts)
    pairs.set(key, entry)
  }
  const table1: Table1Row[] = [...pairs.values()]
    // Rows of one GT class together, its correct prediction first, as the paper's Table 1.
    .sort((a, b) => a.gt - b.gt || Number(a.gt !== a.pred) - Number(b.gt !== b.pred) || a.pred - b.pred)
    .map((p) => {
      const s = summarise(p.counts)
      return {
        gtClass: p.gt,
        gtName: nameOf(classes, p.gt),
        predClass: p.pred,
        predName: nameOf(classes, p.pred),
        kind: p.gt === p.pred ? 'correct' : 'misclassified',
        explanations: p.n,
        shares: Object.fromEntries(contextIds.map((k) => [String(k), s.share[k]])),
        densities: Object.fromEntries(contextIds.map((k) => [String(k), s.density[k]]))
      }
    })
  return { perClass, table1, alerts }
}

/** Counts one stored explanation against its image's ground truth. */
export function countExplanation(
  e: ExplanationRecord,
  gt: Uint16Array,
  width: number,
  height: number,
  options: { contourRadius: number; classCount: number; ignoreIds: readonly number[]; context: StatsOptions['context'] }
): ContextCounts {
  const saliency = upsampleBilinear(e.saliency, e.saliencyHeight, e.saliencyWidth, height, width)
  const summary = e.summary as { gtClass?: number | null }
  // The object is the request's GT class where the segment knows it (a misclassified region's class is its GT's).
  const object = options.context === 'outside-object' ? requestedObject(gt, e.request, width, height, summary.gtClass ?? e.classId) : undefined
  const { contourRadius, classCount, ignoreIds } = options
  return explanationCounts({ gt, request: e.request, saliency, width, height, object, contourRadius, classCount, ignoreIds })
}

/** The statistics of one audit job's explanations. */
export async function auditStats(project: Project, optionsInput: StatsOptionsInput = {}): Promise<AuditStats> {
  const options = StatsOptionsSchema.parse(optionsInput)
  const jobId = options.jobId ?? project.jobs.list().find((j) => j.kind === AUDIT_JOB_KIND)?.id
  if (jobId === undefined) throw new AppError('JOB_NOT_FOUND', 'This project has no audit job yet; run an audit first')
  const params = auditJobParams(project, jobId)
  const model = project.models.get(params.modelId)
  const sidecar = (model?.config as { sidecar?: ModelSidecar } | undefined)?.sidecar
  const { classes, ignoreIds } = datasetClasses(project, params.datasetId, sidecar)
  const classCount = Math.max(0, ...classes.map((c) => c.id)) + 1

  const skipped: AuditStats['skipped'] = []
  const counted: CountedExplanation[] = []
  const gtCache = new Map<number, Uint16Array | Error>()
  for (const e of project.explanations.forJob(jobId)) {
    const image = project.datasets.image(e.imageId)
    if (!image) continue
    let gt = gtCache.get(e.imageId)
    if (gt === undefined) {
      try {
        gt = (await loadLabelMap(project, e.imageId)).data
      } catch (err) {
        if (!isAppError(err)) throw err
        gt = err
      }
      gtCache.set(e.imageId, gt)
    }
    if (gt instanceof Error) {
      skipped.push({ explanationId: e.id, reason: gt.message })
      continue
    }
    const summary = e.summary as { kind?: string; gtClass?: number | null; predClass?: number | null }
    counted.push({
      explanationId: e.id,
      segmentId: e.segmentId,
      imageId: e.imageId,
      requestedClass: e.classId,
      gtClass: summary.gtClass ?? null,
      predClass: summary.predClass ?? null,
      kind: summary.kind ?? 'drawn',
      counts: countExplanation(e, gt, image.width, image.height, { contourRadius: options.contourRadius, classCount, ignoreIds, context: options.context })
    })
  }
  return {
    jobId,
    modelId: params.modelId,
    datasetId: params.datasetId,
    method: params.saliency.method,
    explanations: counted.length,
    skipped,
    classes,
    options: { contourRadius: options.contourRadius, context: options.context, bootstrapSamples: options.bootstrap.samples, seed: options.bootstrap.seed, level: options.bootstrap.level },
    ...computeStats({ classes, explanations: counted }, options)
  }
}
