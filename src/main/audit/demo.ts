import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { STREET_CLASS, type StreetScenesSpec } from '@common/streetScenes'
import type { PredictReport } from '@common/audit'
import type { JobSummary } from '@common/types'
import type { Project } from '@main/store/project'
import { importDataset } from '../datasets/import'
import { parseStreetScenesSpec, writeStreetScenes } from '../datasets/streetScenes'
import type { EnginePool } from '../engine/pool/pool'
import { appHome, defaultDemoModelDir } from '../paths'
import { AppError } from '@common/errors'
import type { AuditJobParams, AuditOptions } from '@common/audit'
import { DEMO_SALIENCY_PARAMS } from '@common/methods/audit'
import { saliencyParams, type SaliencyParamsInput } from '@common/saliency'
import { parseSaliencyParams } from '../saliency'
import { AUDIT_JOB_KIND, auditJobParams, createAuditJob, runAuditJob, type JobProgress } from './jobs'
import { registerModel, registeredSidecar } from './registeredModels'
import { confusionReport, predictDataset } from './predict'

export const DEMO_DATASET_NAME = 'Demo street scenes'
/** Smallest rider/person region audited, in pixels of the demo's images. */
export const DEMO_MIN_AREA = 16

export interface DemoInput {
  modelDir?: string
  images: number
  seed: number
  params: Record<string, unknown>
  samplePerPair: number
  sampleSize?: number
}

export interface DemoHooks {
  signal?: AbortSignal
  /** Phase progress: generate, import, predict, audit; the audit phase's is that of the job jobId. */
  onProgress?: (phase: string, done: number, total: number, jobId?: number) => void
  onJobProgress?: (p: JobProgress) => void
}

/**
 * The demo project's contents, each step skipped when an earlier run already did it (so an interrupted
 * `ctxlens demo` picks up where it stopped, and the audit resumes rather than restarts): the street-scene test
 * split at the model's input size, its import, the model, predictions with segments, and a context-saliency
 * audit of rider and person regions, correct and misclassified.
 */
export async function buildDemo(
  project: Project,
  pool: EnginePool,
  input: DemoInput,
  hooks: DemoHooks = {}
): Promise<{ datasetId: number; modelId: number; datasetDir: string; predict: PredictReport; job: JobSummary; reused: boolean }> {
  const modelDir = resolve(input.modelDir ?? defaultDemoModelDir())
  const model = await registerModel(project, modelDir)
  const sidecar = await registeredSidecar(model)
  const { height, width } = sidecar.input

  const spec = parseStreetScenesSpec({ height, width, seed: input.seed, counts: { train: 0, val: 0, test: input.images } })
  const datasetDir = demoDatasetDir(spec)
  if (!existsSync(join(datasetDir, 'dataset.json'))) {
    // A folder without dataset.json is an interrupted run of the writer: start it again.
    await rm(datasetDir, { recursive: true, force: true })
    await writeStreetScenes(
      { outDir: datasetDir, ...spec },
      { signal: hooks.signal, onProgress: (p) => hooks.onProgress?.('generate', p.done, p.total) }
    )
  }

  let dataset = project.datasets.list().find((d) => d.root === datasetDir)
  if (!dataset) {
    const report = await importDataset(
      project,
      { root: datasetDir, format: 'folder', splits: ['test'], name: DEMO_DATASET_NAME, thumbnailDir: join(appHome(), 'thumbnails') },
      { signal: hooks.signal, onProgress: (p) => hooks.onProgress?.('import', p.done, p.total) }
    )
    dataset = report.dataset
  }

  const predict: PredictReport =
    project.predictions.count(model.id) >= dataset.imageCount
      ? { ...(await confusionReport(project, { datasetId: dataset.id, modelId: model.id })), predicted: 0, failed: [], segments: {}, durationMs: 0 }
      : await predictDataset(
          project,
          pool,
          { datasetId: dataset.id, modelId: model.id, batchSize: 8, extractSegments: true },
          { signal: hooks.signal, onProgress: (d, t) => hooks.onProgress?.('predict', d, t) }
        )

  const options: AuditOptions = {
    datasetId: dataset.id,
    modelId: model.id,
    method: 'context',
    preset: 'cityscapes',
    // The Cityscapes preset's own 16×32 mask grid (4×4-pixel cells at 64×128): measured on the demo model, an 8×16
    // grid smears the bicycle's saliency over the road and sidewalk around it (BENCHMARKS.md, demo model).
    params: { ...DEMO_SALIENCY_PARAMS, ...input.params },
    segments: {
      classes: [STREET_CLASS.rider, STREET_CLASS.person],
      kinds: ['correct', 'misclassified'],
      // Table 1's 625 px at Cityscapes scale is 2 px here: fragments that small are label noise, not objects.
      minArea: DEMO_MIN_AREA,
      seed: input.seed,
      samplePerPair: input.samplePerPair,
      ...(input.sampleSize ? { sampleSize: input.sampleSize } : {})
    },
    // Larger batches amortise each forward/backward pass; split over the workers.
    batchSize: 16,
    wait: true
  }
  const existing = project.jobs
    .list()
    .find((j) => {
      if (j.kind !== AUDIT_JOB_KIND || j.state === 'cancelled') return false
      const p = project.jobs.params(j.id) as { modelId?: number; datasetId?: number }
      return p.modelId === model.id && p.datasetId === dataset.id
    })
  if (existing) {
    const differences = demoDifferences(auditJobParams(project, existing.id), options)
    if (differences.length > 0) {
      throw new AppError(
        'CONFLICT',
        `The demo project ${project.path} holds an audit (job ${existing.id}) built with other settings: ${differences.join('; ')}. ` +
          'Rebuild it with these settings (ctxlens demo --rebuild), or give another --project.',
        { jobId: existing.id, differences }
      )
    }
  }
  const job = existing ?? (await createAuditJob(project, options))
  const final =
    job.state === 'done'
      ? job
      : await runAuditJob(project, job.id, pool, {
          signal: hooks.signal,
          onProgress: (p) => {
            hooks.onJobProgress?.(p)
            hooks.onProgress?.('audit', p.done + p.failed, p.total, p.jobId)
          }
        })
  return { datasetId: dataset.id, modelId: model.id, datasetDir, predict, job: final, reused: existing !== undefined }
}

/**
 * Where the demo's images are written: a folder named for the generator's whole spec, defaults included, so images
 * written by a generator with other defaults (an older version of the app) are never taken for this one's.
 */
export function demoDatasetDir(spec: StreetScenesSpec): string {
  const fingerprint = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 8)
  const { width, height, seed, counts } = spec
  return join(appHome(), 'demo-data', `street-scenes-${width}x${height}-seed${seed}-n${counts.test}-${fingerprint}`)
}

/**
 * What a stored demo audit was built with, against what is asked now: the saliency parameters as resolved from the
 * preset and overrides (so `--steps 80` on an 80-step preset is no difference) and the segment sample.
 */
export function demoDifferences(stored: AuditJobParams, asked: AuditOptions): string[] {
  const out: string[] = []
  const resolved = parseSaliencyParams({ ...saliencyParams(asked.method, asked.preset), ...asked.params, method: asked.method } as SaliencyParamsInput)
  const before = stored.saliency as Record<string, unknown>
  const now = resolved as Record<string, unknown>
  for (const key of [...new Set([...Object.keys(before), ...Object.keys(now)])].sort()) {
    if (JSON.stringify(before[key]) !== JSON.stringify(now[key])) out.push(`${key} ${JSON.stringify(before[key])} before, ${JSON.stringify(now[key])} now`)
  }
  const sel = stored.selection
  const want = asked.segments
  if ((sel.samplePerPair ?? null) !== (want.samplePerPair ?? null)) out.push(`samples per pair ${sel.samplePerPair ?? 'all'} before, ${want.samplePerPair ?? 'all'} now`)
  if ((sel.sampleSize ?? null) !== (want.sampleSize ?? null)) out.push(`sample size ${sel.sampleSize ?? 'all'} before, ${want.sampleSize ?? 'all'} now`)
  if (sel.seed !== want.seed) out.push(`seed ${sel.seed} before, ${want.seed} now`)
  return out
}
