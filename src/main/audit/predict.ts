import { IGNORE_LABEL } from '@common/datasets'
import type { ClassMapping, ConfusionReport, PredictOptions, PredictReport } from '@common/audit'
import { AppError, isAppError, toErrorShape } from '@common/errors'
import type { ModelSidecar } from '@common/modelSidecar'
import type { ClassDef } from '@common/types'
import type { Project } from '@main/store/project'
import { datasetSource, loadImage, loadLabelMap, type LoadedLabelMap } from '../datasets/import'
import { throwIfAborted } from '../cancellation'
import { extractImageSegments } from '../datasets/segments'
import type { EnginePool } from '../engine/pool/pool'
import { ConfusionMatrix } from '../metrics'
import { registeredSidecar, requireModel } from './registeredModels'
import { toModelInput } from '../explain/imageInput'
import { classMappingForPredict, datasetIdPerChannel, storedClassMapping } from './classMapping'
import { isOnnxPath } from '../modelImport'
import { requireModelRuntime } from '../modelImport/runtime'

export interface PredictHooks {
  signal?: AbortSignal
  onProgress?: (done: number, total: number) => void
}

/** The classes a confusion matrix covers: the dataset's class set, plus any class the model adds. */
export function datasetClasses(project: Project, datasetId: number, sidecar?: ModelSidecar): { classes: ClassDef[]; ignoreIds: number[] } {
  const source = datasetSource(project, datasetId)
  const set = project.classSets.get(source.classSetId)
  const classes = [...(set?.classes ?? [])]
  for (const c of sidecar?.classes ?? []) if (!classes.some((d) => d.id === c.id)) classes.push(c)
  classes.sort((a, b) => a.id - b.id)
  return { classes, ignoreIds: [IGNORE_LABEL, ...(set?.ignoreIds ?? []), ...source.options.ignoreIds] }
}

function newMatrix(classes: ClassDef[], ignoreIds: number[]): ConfusionMatrix {
  return new ConfusionMatrix(Math.max(0, ...classes.map((c) => c.id)) + 1, ignoreIds)
}

function report(datasetId: number, modelId: number, images: number, classes: ClassDef[], cm: ConfusionMatrix, classMapping: ClassMapping | null): ConfusionReport {
  const ids = classes.map((c) => c.id)
  const k = cm.classes
  const matrix = ids.map((g) => ids.map((p) => cm.counts[g * k + p]))
  const perClass = classes.map((c, i) => ({
    classId: c.id,
    name: c.name,
    iou: cm.iou(c.id),
    gtPixels: matrix[i].reduce((a, b) => a + b, 0),
    predPixels: matrix.reduce((a, row) => a + row[i], 0)
  }))
  return { datasetId, modelId, images, classIds: ids, matrix, perClass, meanIoU: cm.meanIoU(ids), pixelAccuracy: cm.pixelAccuracy(), classMapping }
}

/**
 * Label maps and confidences from the engine's probabilities: argmax channel → class id, the dataset's through
 * `idOfChannel` (see classMapping), else the sidecar's.
 */
export function decodeProbabilities(
  probs: Float32Array,
  pixels: number,
  sidecar: ModelSidecar,
  offset = 0,
  idOfChannel: number[] = sidecar.classes.map((c) => c.id)
): { labelMap: Uint16Array; confidence: Float32Array } {
  const k = sidecar.classes.length
  const labelMap = new Uint16Array(pixels)
  const confidence = new Float32Array(pixels)
  for (let p = 0; p < pixels; p++) {
    const base = offset + p * k
    let best = 0
    for (let c = 1; c < k; c++) if (probs[base + c] > probs[base + best]) best = c
    labelMap[p] = idOfChannel[best]
    confidence[p] = probs[base + best]
  }
  return { labelMap, confidence }
}

/**
 * Runs a registered model over a dataset (or one split) on the engine's worker threads, a batch of images per
 * task with as many batches in flight as there are workers; stores each image's label map and confidence as
 * soon as its batch returns, extracts its segments, and accumulates the confusion matrix. An image that cannot
 * be read is reported and skipped; the rest carry on.
 */
export async function predictDataset(project: Project, pool: EnginePool, options: PredictOptions, hooks: PredictHooks = {}): Promise<PredictReport> {
  const started = performance.now()
  const model = requireModel(project, options.modelId)
  const sidecar = await registeredSidecar(model)
  await requireModelRuntime(model.dir, sidecar)
  if (!project.datasets.get(options.datasetId)) throw new AppError('NOT_FOUND', `No dataset ${options.datasetId}`, { datasetId: options.datasetId })
  // Before any image is read: a model whose classes are not the dataset's would be scored by coinciding ids.
  const classMapping = classMappingForPredict(project, model, sidecar, options.datasetId, options)
  const idOfChannel = datasetIdPerChannel(classMapping)
  const images = project.datasets.images(options.datasetId, options.split ? { split: options.split } : {})
  // Predictions are stored in the dataset's ids, so the dataset's classes are all the matrix needs.
  const { classes, ignoreIds } = datasetClasses(project, options.datasetId)
  const cm = newMatrix(classes, ignoreIds)
  const failed: PredictReport['failed'] = []
  const segments: Record<string, number> = {}
  const { height, width, channels } = sidecar.input
  const per = height * width * channels
  let done = 0
  let predicted = 0
  let withLabels = 0
  hooks.onProgress?.(0, images.length)

  const batches: (typeof images)[] = []
  for (let i = 0; i < images.length; i += options.batchSize) batches.push(images.slice(i, i + options.batchSize))

  const runBatch = async (batch: typeof images): Promise<void> => {
    const ready: { imageId: number }[] = []
    const inputs: Float32Array[] = []
    for (const image of batch) {
      try {
        const rgb = await loadImage(project, image.id)
        inputs.push(toModelInput(rgb.data, rgb.width, rgb.height, sidecar))
        ready.push({ imageId: image.id })
      } catch (err) {
        if (!isAppError(err)) throw err
        failed.push({ imageId: image.id, code: err.code, message: err.message })
        done++
      }
    }
    if (ready.length > 0) {
      const data = new Float32Array(ready.length * per)
      inputs.forEach((x, i) => data.set(x, i * per))
      const shape: [number, number, number, number] = [ready.length, height, width, channels]
      // tfjs folders keep the Layers-model forward pass the stored predictions were made with; an .onnx file has
      // no such path and goes through the runtime seam (the same probabilities its explanations start from).
      const out = isOnnxPath(model.dir)
        ? {
            shape: [ready.length, height, width, sidecar.classes.length] as [number, number, number, number],
            probabilities: await pool.run({ type: 'probabilities', payload: { modelDir: model.dir, images: data, shape }, transfer: [data.buffer] }, { signal: hooks.signal })
          }
        : await pool.run(
            { type: 'predict', payload: { model: { kind: 'dir', path: model.dir }, images: data, shape, output: 'probabilities' }, transfer: [data.buffer] },
            { signal: hooks.signal }
          )
      const [, oh, ow, k] = out.shape
      if (oh !== height || ow !== width || k !== sidecar.classes.length) {
        throw new AppError('MODEL_OUTPUT_MISMATCH', `The model answered [${out.shape.join(', ')}], expected [n, ${height}, ${width}, ${sidecar.classes.length}]`)
      }
      for (const [i, { imageId }] of ready.entries()) {
        const { labelMap, confidence } = decodeProbabilities(out.probabilities!, oh * ow, sidecar, i * oh * ow * k, idOfChannel)
        project.predictions.upsert({ modelId: model.id, imageId, labelMap, confidence })
        predicted++
        const image = project.datasets.image(imageId)!
        // One read serves the matrix and the segments, so a label that cannot be read is reported once.
        let gt: LoadedLabelMap | null = null
        if (image.labelPath) {
          try {
            gt = await loadLabelMap(project, imageId)
            cm.add(gt.data, labelMap)
            withLabels++
          } catch (err) {
            if (!isAppError(err)) throw err
            failed.push({ imageId, ...toErrorShape(err) })
          }
        }
        if (options.extractSegments) {
          try {
            const extracted = await extractImageSegments(project, {
              imageId,
              modelId: model.id,
              options: options.segmentOptions,
              prediction: { labelMap, confidence },
              gt
            })
            for (const [kind, n] of Object.entries(extracted.byKind)) segments[kind] = (segments[kind] ?? 0) + n
          } catch (err) {
            if (!isAppError(err)) throw err
            failed.push({ imageId, ...toErrorShape(err) })
          }
        }
        done++
      }
    }
    hooks.onProgress?.(done, images.length)
  }

  // As many batches in flight as workers, so every worker has one to run while the others are read and stored.
  let next = 0
  const lanes = Array.from({ length: Math.max(1, Math.min(pool.size, batches.length)) }, async () => {
    while (next < batches.length) {
      throwIfAborted(hooks.signal, 'Prediction was cancelled')
      await runBatch(batches[next++])
    }
  })
  await Promise.all(lanes)
  return {
    ...report(options.datasetId, model.id, withLabels, classes, cm, classMapping),
    predicted,
    failed,
    segments,
    durationMs: performance.now() - started
  }
}

/** The confusion matrix and IoU of the stored predictions of a model over a dataset (or split). */
export async function confusionReport(project: Project, input: { datasetId: number; modelId: number; split?: string }): Promise<ConfusionReport> {
  const model = requireModel(project, input.modelId)
  const classMapping = storedClassMapping(model, input.datasetId)
  // Predictions stored before class maps hold the model's ids, which may lie outside the dataset's.
  const sidecar = classMapping ? undefined : (model.config as { sidecar?: ModelSidecar }).sidecar
  const { classes, ignoreIds } = datasetClasses(project, input.datasetId, sidecar)
  const cm = newMatrix(classes, ignoreIds)
  let n = 0
  for (const image of project.datasets.images(input.datasetId, input.split ? { split: input.split } : {})) {
    const pred = project.predictions.get(model.id, image.id)
    if (!pred || !image.labelPath) continue
    cm.add((await loadLabelMap(project, image.id)).data, pred.labelMap)
    n++
  }
  return report(input.datasetId, model.id, n, classes, cm, classMapping)
}
