import { AuditJobParamsSchema, type AuditJobParams, type AuditOptions } from '@common/audit'
import type { EventPayload } from '@common/contract'
import { AppError, isAppError, toErrorShape } from '@common/errors'
import type { ModelSidecar } from '@common/modelSidecar'
import { faithfulnessParams, isPerturbationMethod, type PerturbationParams, type SaliencyResult } from '@common/saliency'
import type { JobSummary } from '@common/types'
import type { Project } from '@main/store/project'
import { JobLease } from '../jobs/lease'
import { leasedRun, type LeasedRun } from '../jobs/leasedRun'
import { explainSegment, explanationRecord } from '../jobs/explainSegment'
import type { SegmentRecord } from '@main/store/repositories/segments'
import { loadImage } from '../datasets/import'
import type { EnginePool } from '../engine/pool/pool'
import { poolEngine, type EngineRequest, type SaliencyEngine } from '../jobs/saliencyEngine'
import { presetSaliencyParams } from '../saliency'
import { shuffleInPlace, uniform01 } from '../prng'
import { registeredSidecar, requireModel } from './registeredModels'
import { requireModelSize } from '../explain/imageInput'
import { classMappingForAudit } from './classMapping'
import { channelForDatasetClass } from '../classChannels'
import { requireModelRuntime } from '../modelImport/runtime'

export const AUDIT_JOB_KIND = 'audit'

export type JobProgress = EventPayload<'job:progress'>

const itemKey = (segmentId: number): string => `segment:${segmentId}`
const segmentOf = (key: string): number => Number(key.slice('segment:'.length))

/** The class a segment's explanation requests: what the model predicted there, or the GT class of an instance. */
export function requestedClass(s: Pick<SegmentRecord, 'kind' | 'gtClass' | 'predClass'>): number {
  return (s.kind === 'instance' ? s.gtClass : s.predClass) ?? s.gtClass ?? 0
}

/** The class a segment is selected by: its GT class where it has one, else its predicted class. */
function subjectClass(s: SegmentRecord): number | null {
  return s.kind === 'predicted' ? s.predClass : s.gtClass
}

/** forAudit's order: by image, then id. Segment ids depend on the order parallel predictions were stored in. */
const imageOrder = (x: SegmentRecord, y: SegmentRecord): number => x.imageId - y.imageId || x.id - y.id

/** Fisher–Yates with a seeded generator, then back to image order so items run image by image. */
function sample(items: SegmentRecord[], size: number, seed: number): SegmentRecord[] {
  if (size >= items.length) return items
  const a = [...items]
  shuffleInPlace(a, uniform01(seed))
  return a.slice(0, size).sort(imageOrder)
}

export function selectSegments(project: Project, options: Pick<AuditOptions, 'datasetId' | 'modelId' | 'split' | 'segments'>): SegmentRecord[] {
  const sel = options.segments
  const classes = sel.classes ? new Set(sel.classes) : null
  const all = project.segments
    .forAudit({ datasetId: options.datasetId, modelId: options.modelId, split: options.split ?? null, kinds: sel.kinds, minArea: sel.minArea })
    .filter((s) => !classes || classes.has(subjectClass(s) ?? -1))
  const perPair = sel.samplePerPair ? samplePerPair(all, sel.samplePerPair, sel.seed) : all
  return sel.sampleSize ? sample(perPair, sel.sampleSize, sel.seed) : perPair
}

function samplePerPair(segments: SegmentRecord[], size: number, seed: number): SegmentRecord[] {
  const groups = new Map<string, SegmentRecord[]>()
  for (const s of segments) {
    const key = `${s.gtClass}:${s.predClass}`
    const g = groups.get(key) ?? []
    g.push(s)
    groups.set(key, g)
  }
  return [...groups.values()].flatMap((g) => sample(g, size, seed)).sort(imageOrder)
}

/**
 * Creates an audit job: validates the parameters against the model, picks the segments, and stores one job item
 * per segment. Nothing runs yet; runAuditJob does the work.
 */
export async function createAuditJob(project: Project, options: AuditOptions): Promise<JobSummary> {
  const model = requireModel(project, options.modelId)
  const sidecar = await registeredSidecar(model)
  if (!project.datasets.get(options.datasetId)) throw new AppError('NOT_FOUND', `No dataset ${options.datasetId}`, { datasetId: options.datasetId })
  const classMapping = classMappingForAudit(project, model, sidecar, options.datasetId, options.classMap)
  const params = presetSaliencyParams(options.method, options.preset, options.params)
  if (isPerturbationMethod(params.method)) {
    const p = params as PerturbationParams
    if (p.maskHeight > sidecar.input.height || p.maskWidth > sidecar.input.width) {
      throw new AppError('INVALID_PARAMETERS', `mask ${p.maskHeight}×${p.maskWidth} is finer than the model's input ${sidecar.input.height}×${sidecar.input.width}`)
    }
  }
  const segments = selectSegments(project, options)
  if (segments.length === 0) {
    throw new AppError('INVALID_PARAMETERS', 'No segment matches the selection; predict the dataset first (it extracts the segments) or widen the selection', {
      selection: options.segments
    })
  }
  const sel = options.segments
  const jobParams: AuditJobParams = {
    datasetId: options.datasetId,
    modelId: model.id,
    split: options.split ?? null,
    modelDir: model.dir,
    saliency: params,
    preset: options.preset,
    selection: { classes: sel.classes ?? null, kinds: sel.kinds, minArea: sel.minArea, sampleSize: sel.sampleSize ?? null, samplePerPair: sel.samplePerPair ?? null, seed: sel.seed },
    batchSize: options.batchSize,
    classMapping
  }
  return project.jobs.create(AUDIT_JOB_KIND, jobParams, segments.map((s) => itemKey(s.id)))
}

export function auditJobParams(project: Project, jobId: number): AuditJobParams {
  const job = project.jobs.get(jobId)
  if (!job) throw new AppError('JOB_NOT_FOUND', `No job ${jobId}`, { jobId })
  if (job.kind !== AUDIT_JOB_KIND) throw new AppError('JOB_STATE', `Job ${jobId} is a ${job.kind} job, not an audit`, { jobId })
  return AuditJobParamsSchema.parse(project.jobs.params(jobId))
}

export interface RunJobHooks {
  signal?: AbortSignal
  onProgress?: (p: JobProgress) => void
  /** Tests: called after each item is stored or failed. */
  onItem?: (key: string, ok: boolean) => void
  /** The job's lease, when the caller took it (the service does, so a refusal is its reply); else taken here. */
  lease?: JobLease
}

interface Prepared {
  key: string
  segment: SegmentRecord
  request: EngineRequest
  classId: number
  mask: Uint8Array
}

/**
 * Runs the pending items of an audit job on an engine (the worker pool in the app). The job is leased to this
 * process for the run (src/main/jobs/lease.ts): a second runner is refused with JOB_RUNNING while this one beats.
 * Each explanation is stored, in the same transaction that marks its item done, as soon as the engine has it, so a
 * job stopped at any point (pause, cancel, a killed process) resumes with exactly the items that have no result
 * and loses only those still being computed. An item that fails is recorded with its error and the job carries
 * on. Resolves with the job's final summary; the state is 'done', 'paused' or 'cancelled'.
 */
export async function runAuditJob(project: Project, jobId: number, engineOrPool: EnginePool | SaliencyEngine, hooks: RunJobHooks = {}): Promise<JobSummary> {
  const params = auditJobParams(project, jobId)
  const lease = hooks.lease ?? JobLease.acquire(project, jobId)
  let sidecar: ModelSidecar
  let engine: SaliencyEngine
  try {
    const model = requireModel(project, params.modelId)
    sidecar = await registeredSidecar(model)
    await requireModelRuntime(model.dir, sidecar)
    engine = 'saliency' in engineOrPool ? engineOrPool : poolEngine(engineOrPool, model.dir, sidecar, { faithfulness: faithfulnessParams(params.saliency, params.preset) })
  } catch (err) {
    // A model moved or changed since the job was made: the job says why, and resumes once the files are back.
    lease.release('failed', toErrorShape(err).message)
    throw err
  }
  return leasedRun(project, jobId, lease, { signal: hooks.signal }, (run) => runItems(project, jobId, params, sidecar, engine, run, hooks))
}

/** The job's pending items, batch by batch, each result stored as it arrives; ends the lease with the final state. */
async function runItems(
  project: Project,
  jobId: number,
  params: AuditJobParams,
  sidecar: ModelSidecar,
  engine: SaliencyEngine,
  run: LeasedRun,
  hooks: RunJobHooks
): Promise<JobSummary> {
  const { lease } = run
  const signal = hooks.signal
  const runSignal = run.signal
  const started = performance.now()
  let processed = 0
  const emit = (state: JobSummary['state']): void => {
    if (!hooks.onProgress) return
    const job = project.jobs.get(jobId)!
    const elapsed = (performance.now() - started) / 1000
    const rate = processed > 0 && elapsed > 0 ? processed / elapsed : null
    const left = job.total - job.done - job.failed
    hooks.onProgress({ jobId, state, done: job.done, failed: job.failed, total: job.total, ratePerSecond: rate, etaSeconds: rate ? left / rate : null })
  }
  const fail = (key: string, err: unknown): void => {
    const shape = toErrorShape(err)
    lease.write(() => project.jobs.failItem(jobId, key, shape.code, shape.message))
    processed++
    hooks.onItem?.(key, false)
    emit('running')
  }
  emit('running')

  // Images go to the workers as their 8-bit RGB (a quarter of the model input's bytes), converted there by the one
  // function main would use (@common/rgbInput); the size is checked here, before anything is sent.
  let cached: { imageId: number; rgb: Uint8Array } | null = null
  const prepare = async (key: string): Promise<Prepared | null> => {
    try {
      const segment = project.segments.get(segmentOf(key))
      if (!segment) throw new AppError('NOT_FOUND', `Segment ${segmentOf(key)} no longer exists`)
      if (cached?.imageId !== segment.imageId) {
        const image = await loadImage(project, segment.imageId)
        requireModelSize(image.width, image.height, sidecar, segment.imageId)
        cached = { imageId: segment.imageId, rgb: image.data }
      }
      const classId = requestedClass(segment)
      // Segment classes are the dataset's ids; the job's mapping says which output answers for each.
      const channel = channelForDatasetClass(sidecar, params.classMapping ?? null, classId)
      const mask = project.segments.mask(segment.id)!
      const { height, width } = sidecar.input
      return { key, segment, classId, mask, request: { id: key, image: { rgb: cached.rgb, height, width }, request: mask, classId: channel } }
    } catch (err) {
      if (!isAppError(err)) throw err
      fail(key, err)
      return null
    }
  }

  const store = (item: Prepared, r: SaliencyResult): void => {
    lease.write(() =>
      project.jobs.completeItem(jobId, item.key, () =>
        project.explanations.insert(
          explanationRecord(
            {
              imageId: item.segment.imageId,
              modelId: params.modelId,
              segmentId: item.segment.id,
              classId: item.classId,
              request: item.mask,
              preset: params.preset,
              job: { jobId, itemKey: item.key },
              audited: item.segment
            },
            r
          )
        )
      )
    )
    processed++
    hooks.onItem?.(item.key, true)
    emit('running')
  }

  const isStop = (err: unknown): boolean => signal?.aborted === true || isAppError(err, 'CANCELLED')

  let interrupted = false
  try {
    const pending = project.jobs.pendingItems(jobId)
    for (let i = 0; i < pending.length && !interrupted; i += params.batchSize) {
      if (signal?.aborted) break
      if (run.lost.aborted) throw lease.lostError()
      // The app switched projects under a background job: stop without writing; closing paused it.
      if (!project.isOpen) throw new AppError('CANCELLED', `The project was closed while job ${jobId} ran`)
      const items: Prepared[] = []
      for (const key of pending.slice(i, i + params.batchSize)) {
        const p = await prepare(key)
        if (p) items.push(p)
      }
      if (items.length === 0) continue
      // Computing and storing are kept apart: only an engine failure may mark an item failed, never a storage
      // error (or a lost lease) on an item whose result came back; those end the job.
      const stored = new Set<number>()
      let storeError: unknown = null
      let engineFailed = false
      try {
        await engine.saliency(
          items.map((p) => p.request),
          params.saliency,
          {
            signal: runSignal,
            onResult: (k, r) => {
              try {
                // Results travel back out of order across workers: never store one under another segment.
                if (r.id !== undefined && r.id !== items[k].key) throw new AppError('INTERNAL', `Result for ${r.id} arrived as ${items[k].key}`)
                store(items[k], r)
                stored.add(k)
              } catch (err) {
                storeError = err
                throw err // ends the engine call; rethrown below as what it is
              }
            }
          }
        )
      } catch (err) {
        if (storeError !== null) throw storeError
        if (run.lost.aborted) throw lease.lostError()
        if (isStop(err)) break
        engineFailed = true
      }
      if (engineFailed) {
        // One bad request fails the batch it was computed in: run the rest one by one so only the bad one is
        // recorded as failed.
        for (const [k, p] of items.entries()) {
          if (stored.has(k)) continue
          let one: SaliencyResult | null = null
          try {
            one = await explainSegment(engine, p.request, params.saliency, { signal: runSignal })
          } catch (e) {
            if (run.lost.aborted) throw lease.lostError()
            if (isStop(e)) {
              interrupted = true
              break
            }
            fail(p.key, e)
          }
          if (one) store(p, one)
        }
      }
    }
  } catch (err) {
    if (!project.isOpen) throw err
    // Taken over: the new owner's job now, so nothing more is written here.
    const takenOver = run.takenOver(err)
    if (takenOver) throw takenOver
    if (!isStop(err)) {
      lease.release('failed', toErrorShape(err).message)
      emit('failed')
      throw err
    }
    interrupted = true
  }
  if (!project.isOpen) throw new AppError('CANCELLED', `The project was closed while job ${jobId} ran`)
  const reason = run.stopReason()
  const left = project.jobs.pendingItems(jobId).length
  // A stop that did not come from pause or cancel (the pool shut down with the app) leaves the job resumable.
  const state: JobSummary['state'] = left === 0 ? 'done' : reason === 'cancel' ? 'cancelled' : 'paused'
  if (!lease.release(state)) throw lease.lostError()
  emit(state)
  return project.jobs.get(jobId)!
}
