import { statSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import sharp from 'sharp'
import { AppError, isAppError } from '@common/errors'
import type { ModelSidecar } from '@common/models'
import type { ClassDef } from '@common/types'
import type { ExplanationView, ModelView, SegmentView } from '@common/methods/viewer'
import { faithfulnessParams, isPerturbationMethod, type SaliencyMethod } from '@common/saliency'
import { datasetSource, loadDisplayImage, loadImage, loadLabelMap, thumbnailFor } from '../datasets/import'
import { channelForDatasetClass, storedClassMapping } from '../audit/classMapping'
import { requireModel } from '../audit/models'
import { descriptionPath, readModelDescription } from '../modelImport'
import { requireModelRuntime } from '../modelImport/runtime'
import { normalisationText } from '@common/modelDescription'
import { poolEngine, queuedMessage } from '../explain/saliencyEngine'
import { presetSaliencyParams, upsampleBilinear } from '../saliency'
import { explainSegment, explanationRecord } from '../jobs/explainSegment'
import type { Project } from '../store/project'
import type { ExplanationRecord } from '../store/repositories/explanations'
import type { ModelRecord } from '../store/repositories/models'
import { imageItem, listImages } from '../viewer/imageQuery'
import { inputToRgb, modelInputFromRgb, perturbedInput } from '../viewer/modelInput'
import { bytesToBase64, cropMask, labelsToBase64, maskFromRuns, saliencyToBytes } from '../viewer/planes'
import type { viewerMethods } from '@common/methods/viewer'
import { writeFileAtomic } from '../writeFileAtomic'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'

const pngDataUrl = async (rgb: Uint8Array, width: number, height: number): Promise<string> =>
  'data:image/png;base64,' + (await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } }).png().toBuffer()).toString('base64')

function requireDataset(project: Project, datasetId: number): void {
  if (!project.datasets.get(datasetId)) throw new AppError('NOT_FOUND', `No dataset with id ${datasetId} in this project`, { datasetId })
}

function requireImage(project: Project, imageId: number) {
  const image = project.datasets.image(imageId)
  if (!image) throw new AppError('NOT_FOUND', `No image with id ${imageId} in this project`, { imageId })
  return image
}

/**
 * Descriptions are read once per model and version of its description file: the image view asks for them on every
 * run, and a model described anew (models describe, or added with other flags) must show its new description.
 */
const sidecars = new Map<string, Promise<ModelSidecar>>()
function sidecarOf(model: ModelRecord): Promise<ModelSidecar> {
  let mtime = 0
  try {
    mtime = statSync(descriptionPath(model.dir)).mtimeMs
  } catch {
    // Missing: the read below says so.
  }
  const key = `${model.dir}#${mtime}`
  let s = sidecars.get(key)
  if (!s) {
    s = readModelDescription(model.dir)
    s.catch(() => sidecars.delete(key))
    sidecars.set(key, s)
  }
  return s
}

function explanationView(e: ExplanationRecord, width: number, height: number): ExplanationView {
  const upsampled = upsampleBilinear(e.saliency, e.saliencyHeight, e.saliencyWidth, height, width)
  return {
    id: e.id,
    imageId: e.imageId,
    modelId: e.modelId,
    segmentId: e.segmentId,
    method: e.method,
    classId: e.classId,
    params: e.params,
    summary: e.summary,
    width,
    height,
    saliencyHeight: e.saliencyHeight,
    saliencyWidth: e.saliencyWidth,
    saliency: bytesToBase64(saliencyToBytes(upsampled, isPerturbationMethod(e.method as SaliencyMethod))),
    request: bytesToBase64(e.request),
    createdAt: e.createdAt
  }
}

export function viewerServices(ctx: ServiceContext): AreaServices<typeof viewerMethods> {
  return {
    'models:list': async () => {
      const project = ctx.requireProject()
      return Promise.all(
        project.models.list().map(async (m): Promise<ModelView> => {
          const sidecar = await sidecarOf(m).catch(() => null)
          return {
            id: m.id,
            name: m.name,
            architecture: m.architecture,
            dir: m.dir,
            predictions: project.predictions.count(m.id),
            input: sidecar ? sidecar.input : null,
            runtime: sidecar ? (sidecar.modelFormat === 'onnx' ? 'onnx' : 'tfjs') : null,
            modelFormat: sidecar?.modelFormat ?? null,
            classes: sidecar?.classes ?? [],
            normalisation: sidecar ? normalisationText(sidecar.normalisation) : null,
            output: sidecar ? (sidecar.output ?? 'probabilities') : null,
            layout: sidecar ? (sidecar.layout ?? 'NHWC') : null
          }
        })
      )
    },

    'images:classes': async ({ datasetId }) => {
      const project = ctx.requireProject()
      const byId = new Map<number, ClassDef>()
      for (const d of project.datasets.list()) {
        if (datasetId !== undefined && d.id !== datasetId) continue
        for (const c of project.classSets.get(d.classSetId)?.classes ?? []) if (!byId.has(c.id)) byId.set(c.id, c)
      }
      return [...byId.values()].sort((a, b) => a.id - b.id)
    },

    'images:list': async (query) => listImages(ctx.requireProject(), query),

    'images:thumbnails': async ({ ids, size }) => {
      const project = ctx.requireProject()
      const out: Record<string, string> = {}
      for (const id of ids) {
        const image = project.datasets.image(id)
        if (!image) continue
        const cached = thumbnailFor(project, id)
        let bytes: Buffer | null = cached ? await readFile(cached).catch(() => null) : null
        if (!bytes) {
          // No cached thumbnail (the import made none, or it was deleted): make one from the image itself, and keep
          // it when it is the cache's size, so a 2048×1024 image is decoded for its thumbnail once, not per scroll.
          const source = datasetSource(project, image.datasetId)
          bytes = await sharp(join(source.root, image.path)).resize(size, size, { fit: 'inside' }).webp({ quality: 80 }).toBuffer().catch(() => null)
          if (bytes && cached && size === source.options.thumbnailSize) {
            await mkdir(dirname(cached), { recursive: true })
              .then(() => writeFileAtomic(cached, bytes!, { overwrite: false }))
              // A cache that cannot be written (read-only, or another request wrote it first) still serves this one.
              .catch(() => undefined)
          }
        }
        if (bytes) out[String(id)] = 'data:image/webp;base64,' + bytes.toString('base64')
      }
      return out
    },

    'images:get': async ({ imageId, modelId }) => {
      const project = ctx.requireProject()
      const record = requireImage(project, imageId)
      const classSet = project.classSets.get(datasetSource(project, record.datasetId).classSetId)
      if (modelId !== undefined) requireModel(project, modelId)
      // Without an explicit model, the first model that has a prediction for this image (each read once).
      let chosen: number | null = modelId ?? null
      let prediction = chosen === null ? null : project.predictions.labelMap(chosen, imageId)
      if (modelId === undefined) {
        const models = project.models.list()
        for (const m of models) {
          prediction = project.predictions.labelMap(m.id, imageId)
          if (prediction) {
            chosen = m.id
            break
          }
        }
        chosen ??= models[0]?.id ?? null
      }
      const shown = await loadDisplayImage(project, imageId)
      let gt: string | null = null
      try {
        gt = labelsToBase64((await loadLabelMap(project, imageId)).data)
      } catch (err) {
        if (!isAppError(err, 'LABEL_MISSING')) throw err
      }
      const segments: SegmentView[] = project.segments
        .forImage(imageId)
        .filter((s) => s.modelId === null || s.modelId === chosen)
        .map((s) => ({
          id: s.id,
          modelId: s.modelId,
          kind: s.kind,
          gtClass: s.gtClass,
          predClass: s.predClass,
          area: s.area,
          bbox: s.bbox,
          confidence: s.confidence,
          cropMask: bytesToBase64(cropMask(project.segments.mask(s.id)!, record.width, s.bbox))
        }))
      return {
        image: imageItem(project, imageId, chosen)!,
        classes: classSet?.classes ?? [],
        png: `data:${shown.mime};base64,${shown.bytes.toString('base64')}`,
        gt,
        prediction: prediction ? labelsToBase64(prediction) : null,
        modelId: chosen,
        segments
      }
    },

    'explain:segment': async (input) => {
      const project = ctx.requireProject()
      const record = requireImage(project, input.imageId)
      const model = requireModel(project, input.modelId)
      const { width, height } = record
      let request: Uint8Array
      let segmentId: number | null = null
      let classId = input.classId
      if ('segmentIds' in input.request) {
        request = new Uint8Array(width * height)
        for (const id of input.request.segmentIds) {
          const segment = project.segments.get(id)
          if (!segment || segment.imageId !== input.imageId) throw new AppError('NOT_FOUND', `No segment ${id} on image ${input.imageId}`, { segmentId: id })
          const mask = project.segments.mask(id)!
          for (let i = 0; i < mask.length; i++) if (mask[i]) request[i] = 1
          classId ??= segment.predClass ?? segment.gtClass ?? undefined
        }
        // One stored segment is the request itself; a union of several is a request of its own.
        if (input.request.segmentIds.length === 1) segmentId = input.request.segmentIds[0]
      } else {
        request = maskFromRuns(input.request.runs, width, height)
      }
      if (!request.some((v) => v)) throw new AppError('EMPTY_REQUEST_MASK', 'The request is empty: pick a segment or draw a mask first')
      if (classId === undefined) throw new AppError('INVALID_PARAMETERS', 'Say which class to explain for a drawn request')
      const sidecar = await sidecarOf(model)
      // Segment classes are the dataset's ids; a model predicted through a class map answers on its own channel.
      const channel = channelForDatasetClass(sidecar, storedClassMapping(model, record.datasetId), classId)
      const params = presetSaliencyParams(input.method, input.preset, input.params)
      const image = modelInputFromRgb(await loadImage(project, input.imageId), sidecar)

      const result = await ctx.tasks.run(`explain ${input.method}`, async (task) => {
        await requireModelRuntime(model.dir, sidecar)
        const faithfulness = faithfulnessParams(params, input.preset)
        const engine = poolEngine(await ctx.engine(), model.dir, sidecar, { priority: 'interactive', faithfulness })
        return explainSegment(engine, { image, request, classId: channel }, params, {
          signal: task.signal,
          onQueued: (load) => task.progress(0, 0, queuedMessage(load)),
          onStart: () => task.progress(0, 0, 'Starting…'),
          onProgress: (step, steps) => task.progress(step, steps)
        })
      }, { interactive: true })
      const id = project.explanations.insert(
        explanationRecord({ imageId: input.imageId, modelId: input.modelId, segmentId, classId, request, preset: input.preset }, result)
      )
      return explanationView(project.explanations.get(id)!, width, height)
    },

    'images:ofTargets': async ({ targets }) => {
      const project = ctx.requireProject()
      const imageOf = {
        image: (id: number) => id,
        segment: (id: number) => project.segments.get(id)?.imageId ?? null,
        explanation: (id: number) => project.explanations.imageId(id)
      }
      return targets.map(({ kind, id }) => {
        const imageId = imageOf[kind](id)
        const image = imageId === null ? null : project.datasets.image(imageId)
        return { kind, id, imageId: image ? image.id : null, path: image ? image.path : null }
      })
    },

    'explanations:list': async ({ imageId }) => {
      const project = ctx.requireProject()
      const record = requireImage(project, imageId)
      return project.explanations.forImage(imageId).map((e) => explanationView(e, record.width, record.height))
    },

    'explanations:perturbed': async ({ explanationId }) => {
      const project = ctx.requireProject()
      const e = project.explanations.get(explanationId)
      if (!e) throw new AppError('NOT_FOUND', `No explanation with id ${explanationId}`, { explanationId })
      if (!isPerturbationMethod(e.method as SaliencyMethod)) {
        throw new AppError('INVALID_PARAMETERS', `A ${e.method} explanation perturbs nothing; only grid and context saliency have a perturbed image`)
      }
      const model = requireModel(project, e.modelId)
      const sidecar = await sidecarOf(model)
      const input = modelInputFromRgb(await loadImage(project, e.imageId), sidecar)
      const { width, height } = input
      const mask = upsampleBilinear(e.saliency, e.saliencyHeight, e.saliencyWidth, height, width)
      const perturbed = perturbedInput(input, mask, e.request, e.params as Parameters<typeof perturbedInput>[3], sidecar)
      await requireModelRuntime(model.dir, sidecar)
      const labels = await ctx.tasks.run('predict perturbed', async (task) =>
        poolEngine(await ctx.engine(), model.dir, sidecar, { priority: 'interactive' }).labels({ ...input, data: perturbed }, { signal: task.signal }),
        { interactive: true }
      )
      return { png: await pngDataUrl(inputToRgb(perturbed, width * height, sidecar), width, height), prediction: labelsToBase64(labels), width, height }
    },

    'segments:confusion': async (scope) => {
      const project = ctx.requireProject()
      requireDataset(project, scope.datasetId)
      requireModel(project, scope.modelId)
      return { cells: project.segments.pairCounts(scope) }
    },

    'segments:byPair': async (query) => {
      const project = ctx.requireProject()
      requireDataset(project, query.datasetId)
      requireModel(project, query.modelId)
      const { total, items } = project.segments.byPair(query)
      return {
        total,
        items: items.map((s) => ({
          id: s.id,
          imageId: s.imageId,
          path: s.path,
          split: s.split,
          imageWidth: s.imageWidth,
          imageHeight: s.imageHeight,
          kind: s.kind as 'correct' | 'misclassified',
          gtClass: s.gtClass!,
          predClass: s.predClass!,
          area: s.area,
          bbox: s.bbox,
          confidence: s.confidence
        }))
      }
    }
  }
}
