import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveClassMapping } from '../../src/main/audit/classMapping'
import { AppError, isAppError } from '../../src/common/errors'
import type { ClassDef } from '../../src/common/types'
import { tempDir } from '../helpers/tempdir'
import { RGB_CLASSES, blockImage, saveConvModel, writeFolderDataset } from './fixtures/data'
import { SIZE, auditOptions } from './fixtures/project'
import { services } from './helpers'

/**
 * A model whose class list is not the dataset's is matched by name before anything is scored: by id, a model
 * listing the same colours under other ids would be scored as the wrong classes. The same weights under three
 * class lists (the dataset's own; the same names with other ids, case and spacing; unrelated names) must give the
 * same predictions, segments and explanations once mapped.
 */
const dir = tempDir()
const { ctx, call } = services()
const cls = (id: number, name: string): ClassDef => ({ id, name, color: [id, id, id] })

// The model's output channels stay red, green, blue; only what its description calls them changes.
const RENAMED = [cls(5, ' Red'), cls(3, 'GREEN '), cls(7, 'blue')]
const UNRELATED = [cls(0, 'car'), cls(1, 'sky'), cls(2, 'vegetation')]

/** The job tests' audit, on fewer segments: enough to compare explanations, quick to run twice. */
const audit = (run: Run) => {
  const options = auditOptions(run.datasetId, run.modelId)
  return { ...options, segments: { ...options.segments, sampleSize: 5 } }
}

interface Run {
  datasetId: number
  modelId: number
}

async function projectWith(name: string, classes: ClassDef[]): Promise<Run> {
  await saveConvModel(join(dir.path, `model-${name}`), SIZE, SIZE, classes)
  await call('project:create', { path: dir.file(`${name}.ctxlens`) })
  const datasetId = (await call('datasets:import', { root: join(dir.path, 'data'), format: 'folder' })).dataset.id
  const modelId = (await call('models:add', { dir: join(dir.path, `model-${name}`) })).id
  return { datasetId, modelId }
}

/** Predictions, segments and explanations of the current project, keyed by image file, not by database id. */
function stored(run: Run, jobId?: number) {
  const project = ctx.requireProject()
  const images = project.datasets.images(run.datasetId)
  const name = (imageId: number) => images.find((i) => i.id === imageId)!.path
  const predictions = Object.fromEntries(images.map((i) => [i.path, Array.from(project.predictions.get(run.modelId, i.id)!.labelMap)]))
  const segments = images
    .flatMap((i) => project.segments.forImage(i.id).map((s) => `${i.path} ${s.kind} ${s.gtClass}→${s.predClass} ${s.bbox.join(',')} ${s.area}`))
    .sort()
  const explanations =
    jobId === undefined
      ? []
      : project.explanations
          .forJob(jobId)
          .map((e) => ({ key: `${name(e.imageId)} ${project.segments.get(e.segmentId!)!.bbox.join(',')} ${e.classId}`, saliency: Array.from(e.saliency) }))
          .sort((a, b) => a.key.localeCompare(b.key))
  return { predictions, segments, explanations }
}

let reference: { report: Awaited<ReturnType<typeof call<'audit:predict'>>>; stored: ReturnType<typeof stored> }

beforeAll(async () => {
  await writeFolderDataset(
    join(dir.path, 'data'),
    SIZE,
    SIZE,
    Array.from({ length: 3 }, (_, i) => blockImage(`im${i}`, SIZE, SIZE, 4, 100 + i))
  )
  const run = await projectWith('reference', RGB_CLASSES)
  const report = await call('audit:predict', { datasetId: run.datasetId, modelId: run.modelId, batchSize: 2 })
  const job = await call('audit:start', { ...audit(run), wait: true })
  expect(job).toMatchObject({ state: 'done', failed: 0 })
  reference = { report, stored: stored(run, job.id) }
  expect(report.classMapping?.basis).toBe('identical')
  // The reference has misclassified regions and more than one class predicted, or the comparisons prove little.
  expect(reference.stored.segments.some((s) => s.includes('misclassified'))).toBe(true)
  expect(reference.stored.explanations.length).toBeGreaterThan(3)
})
afterAll(() => {
  ctx.dispose()
  dir.cleanup()
})

describe('a model whose class list differs from the dataset', () => {
  it('same names under other ids, case and spacing: matched by name, stored in the dataset ids, audited on the right outputs', async () => {
    const run = await projectWith('renamed', RENAMED)
    const report = await call('audit:predict', { datasetId: run.datasetId, modelId: run.modelId, batchSize: 2 })
    expect(report.classMapping).toMatchObject({
      basis: 'names',
      pairs: [
        { model: { id: 5, name: ' Red' }, dataset: { id: 0, name: 'red' } },
        { model: { id: 3, name: 'GREEN ' }, dataset: { id: 1, name: 'green' } },
        { model: { id: 7, name: 'blue' }, dataset: { id: 2, name: 'blue' } }
      ],
      unpredicted: []
    })
    expect(report.matrix).toEqual(reference.report.matrix)
    expect(report.meanIoU).toBe(reference.report.meanIoU)
    // The mapping is stored, so the report from stored predictions says it too.
    expect((await call('audit:confusion', { datasetId: run.datasetId, modelId: run.modelId })).classMapping).toEqual(report.classMapping)

    const job = await call('audit:start', { ...audit(run), wait: true })
    expect(job).toMatchObject({ state: 'done', failed: 0 })
    const detail = await call('audit:job', { jobId: job.id })
    expect(detail.params.classMapping).toEqual(report.classMapping)
    const mine = stored(run, job.id)
    expect(mine.predictions).toEqual(reference.stored.predictions)
    expect(mine.segments).toEqual(reference.stored.segments)
    expect(mine.explanations.map((e) => e.key)).toEqual(reference.stored.explanations.map((e) => e.key))
    for (const [i, e] of mine.explanations.entries()) {
      const ref = reference.stored.explanations[i].saliency
      for (let j = 0; j < ref.length; j++) expect(e.saliency[j]).toBeCloseTo(ref[j], 5)
    }
  })

  it('unrelated names: refused before anything is stored, both class lists in the error; runs with an explicit class map', async () => {
    const run = await projectWith('unrelated', UNRELATED)
    let err: unknown
    try {
      await call('audit:predict', { datasetId: run.datasetId, modelId: run.modelId, batchSize: 2 })
    } catch (e) {
      err = e
    }
    expect(isAppError(err, 'CLASS_SET_MISMATCH')).toBe(true)
    const message = (err as AppError).message
    expect(message).toContain('Model classes: 0 car, 1 sky, 2 vegetation')
    expect(message).toContain('Dataset classes: 0 red, 1 green, 2 blue')
    expect(ctx.requireProject().predictions.count(run.modelId)).toBe(0)

    const classMap = [
      { model: 'car', dataset: 'RED' },
      { model: '1', dataset: 'green' },
      { model: 'vegetation', dataset: '2' }
    ]
    const report = await call('audit:predict', { datasetId: run.datasetId, modelId: run.modelId, batchSize: 2, classMap })
    expect(report.classMapping?.basis).toBe('explicit')
    expect(report.matrix).toEqual(reference.report.matrix)
    expect(stored(run).predictions).toEqual(reference.stored.predictions)

    // An audit must use the map the dataset was predicted with: another one is refused.
    const swapped = [
      { model: 'car', dataset: 'green' },
      { model: 'sky', dataset: 'red' },
      { model: 'vegetation', dataset: 'blue' }
    ]
    await expect(call('audit:start', { ...audit(run), classMap: swapped })).rejects.toMatchObject({ code: 'CLASS_SET_MISMATCH' })
    // A split of it cannot be predicted with another map either, or the dataset would hold two id spaces.
    await expect(call('audit:predict', { datasetId: run.datasetId, modelId: run.modelId, split: 'test', classMap: swapped })).rejects.toMatchObject({ code: 'CONFLICT' })
  })
})

describe('resolveClassMapping', () => {
  const dataset = { label: 'dataset "street" (#1)', classes: [cls(0, 'road'), cls(1, 'sidewalk'), cls(2, 'car'), cls(3, 'sky')] }
  const model = (classes: ClassDef[]) => ({ label: 'model "m" (#1)', classes })

  it('identical lists, whatever their order', () => {
    expect(resolveClassMapping(model([cls(3, 'sky'), cls(0, 'road'), cls(2, 'car'), cls(1, 'sidewalk')]), dataset).basis).toBe('identical')
  })

  it('a model that knows some of the dataset classes: matched by name, the rest listed as never predicted', () => {
    const m = resolveClassMapping(model([cls(0, 'Sky'), cls(1, 'car')]), dataset)
    expect(m.basis).toBe('names')
    expect(m.pairs.map((p) => [p.model.id, p.dataset.id])).toEqual([
      [0, 3],
      [1, 2]
    ])
    expect(m.unpredicted.map((c) => c.name)).toEqual(['road', 'sidewalk'])
  })

  it('refuses a model class the dataset lacks, two model classes on one dataset class, and repeated names', () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn()
      } catch (err) {
        return (err as AppError).code
      }
      return 'none'
    }
    expect(codeOf(() => resolveClassMapping(model([cls(0, 'road'), cls(1, 'vegetation')]), dataset))).toBe('CLASS_SET_MISMATCH')
    const twoOnOne = [
      { model: 'car', dataset: 'car' },
      { model: 'truck', dataset: 'car' }
    ]
    expect(codeOf(() => resolveClassMapping(model([cls(0, 'car'), cls(1, 'truck')]), dataset, twoOnOne))).toBe('CLASS_SET_MISMATCH')
    expect(codeOf(() => resolveClassMapping(model([cls(0, 'car'), cls(1, 'Car ')]), dataset))).toBe('CLASS_SET_MISMATCH')
    expect(codeOf(() => resolveClassMapping(model([cls(0, 'car')]), dataset, [{ model: 'lorry', dataset: 'car' }]))).toBe('INVALID_PARAMETERS')
  })
})
