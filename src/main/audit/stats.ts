import { basename } from 'node:path'
import {
  StatsOptionsSchema,
  type AuditStats,
  type StatsOptions,
  type BiasAlert,
  type Evidence,
  type ExampleRef,
  type RequestedClassStats,
  type StatsOptionsInput,
  type Table1Row
} from '@common/audit'
import { AppError, isAppError } from '@common/errors'
import type { ModelSidecar } from '@common/modelSidecar'
import type { ClassDef } from '@common/types'
import type { Project } from '@main/store/project'
import type { ImageRecord } from '@main/store/repositories/datasets'
import type { ExplanationRecord } from '@main/store/repositories/explanations'
import type { SegmentRecord } from '@main/store/repositories/segments'
import { loadLabelMap } from '../datasets/import'
import { upsampleBilinear } from '../saliency'
import { addCounts, bootstrapIntervals, emptyCounts, explanationCounts, requestedObject, summarise, type ContextCounts } from './contextStats'
import { AUDIT_JOB_KIND, auditJobParams } from './jobs'
import { getJob } from '../jobs/status'
import { datasetClasses } from './predict'

/** One explanation reduced to what the statistics need. */
export interface CountedExplanation {
  explanationId: number
  segmentId: number | null
  imageId: number
  /** The audited class of the request (see auditedClass), which the statistics group by. */
  requestedClass: number
  gtClass: number | null
  predClass: number | null
  kind: string
  /** Whether the perturbed image gave back the model's score; null for methods without that notion. */
  recovered: boolean | null
  /** Deletion faithfulness of the explanation; null or absent where it has none. */
  faithfulness?: number | null
  /** What a reader is shown for this explanation instead of its ids; absent in hand-made inputs. */
  image?: ExampleRef['image']
  segment?: ExampleRef['segment']
  counts: ContextCounts
}

export interface StatsInput {
  classes: ClassDef[]
  explanations: CountedExplanation[]
}

const nameOf = (classes: ClassDef[], id: number): string => classes.find((c) => c.id === id)?.name ?? String(id)

/**
 * The class a request was audited for: the ground-truth class of a correct or misclassified region or an
 * instance, the predicted class of a predicted segment. The explained class (what the model predicted there) is
 * another thing: grouping by it filed a rider taken for a bicycle under "bicycle", whose context then held the
 * rider's own bicycle, and gave alerts of a class on itself.
 */
export function auditedClass(e: { kind: string; gtClass: number | null; predClass: number | null }, explainedClass: number): number {
  if (e.kind === 'predicted' || e.kind === 'drawn') return e.predClass ?? explainedClass
  return e.gtClass ?? explainedClass
}

/**
 * n, images and recovery of a group: `all` its explanations, `counted` those its figures rest on. Recovery is
 * over all (it says how many were left out); faithfulness over the counted ones (how well the maps the figures
 * rest on point at the context the score needs).
 */
export function evidenceOf(all: readonly CountedExplanation[], counted: readonly CountedExplanation[]): Evidence {
  const recovered = all.filter((e) => e.recovered === true).length
  const notRecovered = all.filter((e) => e.recovered === false).length
  const faithful = counted.map((e) => e.faithfulness).filter((f): f is number => typeof f === 'number')
  return {
    explanations: counted.length,
    images: new Set(counted.map((e) => e.imageId)).size,
    total: all.length,
    recovered,
    notRecovered,
    recoveryRate: recovered + notRecovered > 0 ? recovered / (recovered + notRecovered) : null,
    faithfulness: { mean: faithful.length ? faithful.reduce((a, b) => a + b, 0) / faithful.length : null, n: faithful.length }
  }
}

function groupBy<K>(list: readonly CountedExplanation[], key: (e: CountedExplanation) => K): Map<K, CountedExplanation[]> {
  const groups = new Map<K, CountedExplanation[]>()
  for (const e of list) {
    const k = key(e)
    const g = groups.get(k) ?? []
    g.push(e)
    groups.set(k, g)
  }
  return groups
}

/**
 * The statistics from counted explanations (pure; `auditStats` reads them from a project). Per audited class:
 * Fig. 6 shares beside the contour baseline, densities, and bootstrap intervals over images; Table 1 rows per
 * (GT, predicted) pair of correct and misclassified requests; and the alerts, those resting on too little apart.
 * Unrecovered explanations are counted only when asked; every figure carries what it rests on.
 */
export function computeStats(
  input: StatsInput,
  optionsInput: StatsOptionsInput = {}
): Pick<AuditStats, 'perClass' | 'table1' | 'alerts' | 'insufficient' | 'evidence'> {
  const options = StatsOptionsSchema.parse(optionsInput)
  const { classes, explanations } = input
  const K = explanations[0]?.counts.mass.length ?? Math.max(0, ...classes.map((c) => c.id)) + 1
  const contextIds = classes.map((c) => c.id).filter((id) => id < K)
  const counts = (e: CountedExplanation): boolean => options.includeUnrecovered || e.recovered !== false
  const { minExplanations, minImages } = options.alerts

  const byRequested = groupBy(explanations, (e) => e.requestedClass)
  const perClass: RequestedClassStats[] = []
  const alerts: BiasAlert[] = []
  const insufficient: BiasAlert[] = []
  for (const requested of [...byRequested.keys()].sort((a, b) => a - b)) {
    const all = byRequested.get(requested)!
    const list = all.filter(counts)
    const evidence = evidenceOf(all, list)
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
      evidence,
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

    if (units.length === 0) continue
    const enough = list.length >= minExplanations && units.length >= minImages
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
      if (k === requested && !options.alerts.sameClass) return
      const examples = (): BiasAlert['examples'] =>
        list
          .map((e) => {
            const m = e.counts.mass.reduce((a, b) => a + b, 0)
            return {
              explanationId: e.explanationId,
              segmentId: e.segmentId,
              imageId: e.imageId,
              image: e.image ?? { name: `image ${e.imageId}`, split: null },
              segment: e.segment ?? null,
              share: m > 0 ? e.counts.mass[k] / m : 0
            }
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
        densityRatio: s.densityRatio[k],
        evidence
      }
      const into = enough ? alerts : insufficient
      const shareCi = ci[j]
      if (shareCi && shareCi[0] > options.alerts.shareMargin) {
        into.push({ ...common, reason: 'share', value: s.share[k] - s.baselineShare[k], ci: shareCi, threshold: options.alerts.shareMargin, examples: examples() })
      }
      const densityCi = ci[contextIds.length + j]
      if (densityCi && densityCi[0] > options.alerts.densityRatio && s.densityRatio[k] !== null) {
        into.push({ ...common, reason: 'density', value: s.densityRatio[k]!, ci: densityCi, threshold: options.alerts.densityRatio, examples: examples() })
      }
    })
  }

  const regions = explanations.filter((e) => (e.kind === 'correct' || e.kind === 'misclassified') && e.gtClass !== null && e.predClass !== null)
  const pairs = groupBy(regions, (e) => `${e.gtClass}:${e.predClass}`)
  const table1: Table1Row[] = [...pairs.values()]
    .map((all) => ({ gt: all[0].gtClass!, pred: all[0].predClass!, all, list: all.filter(counts) }))
    // Rows of one GT class together, its correct prediction first, as the paper's Table 1.
    .sort((a, b) => a.gt - b.gt || Number(a.gt !== a.pred) - Number(b.gt !== b.pred) || a.pred - b.pred)
    .map((p) => {
      const s = summarise(p.list.reduce((acc, e) => addCounts(acc, e.counts), emptyCounts(K)))
      return {
        gtClass: p.gt,
        gtName: nameOf(classes, p.gt),
        predClass: p.pred,
        predName: nameOf(classes, p.pred),
        kind: p.gt === p.pred ? 'correct' : 'misclassified',
        explanations: p.list.length,
        evidence: evidenceOf(p.all, p.list),
        shares: Object.fromEntries(contextIds.map((k) => [String(k), s.share[k]])),
        densities: Object.fromEntries(contextIds.map((k) => [String(k), s.density[k]]))
      }
    })
  return { perClass, table1, alerts, insufficient, evidence: evidenceOf(explanations, explanations.filter(counts)) }
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

/**
 * An image as its dataset lists it: file name and split. No split when the dataset has none ('all' is what the
 * folder importer calls a folder without split subfolders).
 */
export function imageName(image: Pick<ImageRecord, 'path' | 'split'>): ExampleRef['image'] {
  return { name: basename(image.path), split: image.split && image.split !== 'all' ? image.split : null }
}

/** A request as a reader finds it on the image: its class, the centre of its bounding box, its area. */
export function segmentPlace(s: Pick<SegmentRecord, 'bbox' | 'area'>, className: string): NonNullable<ExampleRef['segment']> {
  const [x, y, w, h] = s.bbox
  return { className, x: Math.round(x + w / 2), y: Math.round(y + h / 2), area: s.area }
}

/** The statistics of one audit job's explanations. */
export async function auditStats(project: Project, optionsInput: StatsOptionsInput = {}): Promise<AuditStats> {
  const options = StatsOptionsSchema.parse(optionsInput)
  const jobId = options.jobId ?? project.jobs.list().find((j) => j.kind === AUDIT_JOB_KIND)?.id
  if (jobId === undefined) throw new AppError('JOB_NOT_FOUND', 'This project has no audit job yet; run an audit first')
  const params = auditJobParams(project, jobId)
  const model = project.models.get(params.modelId)
  // A job with a class mapping counts in the dataset's ids only; older ones may hold model ids beyond them.
  const sidecar = params.classMapping ? undefined : (model?.config as { sidecar?: ModelSidecar } | undefined)?.sidecar
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
    const summary = e.summary as { kind?: string; gtClass?: number | null; predClass?: number | null; recovered?: boolean | null; faithfulness?: { value?: number | null } | null }
    const kind = summary.kind ?? 'drawn'
    const gtClass = summary.gtClass ?? null
    const predClass = summary.predClass ?? null
    const requested = auditedClass({ kind, gtClass, predClass }, e.classId)
    const segment = e.segmentId === null ? null : project.segments.get(e.segmentId)
    counted.push({
      explanationId: e.id,
      segmentId: e.segmentId,
      imageId: e.imageId,
      requestedClass: requested,
      gtClass,
      predClass,
      kind,
      recovered: summary.recovered ?? null,
      faithfulness: summary.faithfulness?.value ?? null,
      image: imageName(image),
      segment: segment ? segmentPlace(segment, nameOf(classes, requested)) : null,
      counts: countExplanation(e, gt, image.width, image.height, { contourRadius: options.contourRadius, classCount, ignoreIds, context: options.context })
    })
  }
  const computed = computeStats({ classes, explanations: counted }, options)
  const job = getJob(project, jobId)!
  return {
    jobId,
    modelId: params.modelId,
    datasetId: params.datasetId,
    method: params.saliency.method,
    explanations: computed.evidence.explanations,
    partial: job.state === 'done' && job.done + job.failed >= job.total ? null : { state: job.state, done: job.done, failed: job.failed, total: job.total },
    skipped,
    classes,
    options: {
      contourRadius: options.contourRadius,
      context: options.context,
      bootstrapSamples: options.bootstrap.samples,
      seed: options.bootstrap.seed,
      level: options.bootstrap.level,
      includeUnrecovered: options.includeUnrecovered,
      minExplanations: options.alerts.minExplanations,
      minImages: options.alerts.minImages
    },
    ...computed
  }
}
