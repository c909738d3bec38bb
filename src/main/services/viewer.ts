import { mkdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import sharp from 'sharp'
import { AppError, isAppError } from '@common/errors'
import type { ClassDef } from '@common/types'
import type { SegmentView } from '@common/methods/viewer'
import { isPerturbationMethod, type SaliencyMethod } from '@common/saliency'
import { datasetSource, loadDisplayImage, loadImage, loadLabelMap, thumbnailFor, thumbnailWebp } from '../datasets/import'
import { requireModel } from '../audit/registeredModels'
import { requireModelRuntime } from '../modelImport/runtime'
import { poolEngine } from '../jobs/saliencyEngine'
import { upsampleBilinear } from '../saliency'
import { imageItem, listImages } from '../viewer/imageQuery'
import { inputToRgb, modelInputFromRgb, perturbedInput } from '../viewer/modelInput'
import { cropMask, labelsToBytes } from '../viewer/planes'
import { explanationView } from '../viewer/explanationView'
import type { viewerMethods } from '@common/methods/viewer'
import { writeFileAtomic } from '../writeFileAtomic'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'
import { requireDataset, requireImage, sidecarOf } from './lookups'

const pngDataUrl = async (rgb: Uint8Array, width: number, height: number): Promise<string> =>
  'data:image/png;base64,' + (await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } }).png().toBuffer()).toString('base64')

export function viewerServices(ctx: ServiceContext): AreaServices<typeof viewerMethods> {
  return {
    'images:classes': async ({ datasetId }) => {
      const project = ctx.requireProject()
      // An unknown dataset is an error, not an empty class list: the CLI checks class names against this answer.
      if (datasetId !== undefined && !project.datasets.get(datasetId)) {
        throw new AppError('NOT_FOUND', `No dataset with id ${datasetId} in this project`, { datasetId })
      }
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
          bytes = await thumbnailWebp(sharp(join(source.root, image.path)), size).catch(() => null)
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
      let gt: Uint8Array | null = null
      try {
        gt = labelsToBytes((await loadLabelMap(project, imageId)).data)
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
          cropMask: cropMask(project.segments.mask(s.id)!, record.width, s.bbox)
        }))
      return {
        image: imageItem(project, imageId, chosen)!,
        classes: classSet?.classes ?? [],
        png: `data:${shown.mime};base64,${shown.bytes.toString('base64')}`,
        gt,
        prediction: prediction ? labelsToBytes(prediction) : null,
        modelId: chosen,
        segments
      }
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
      return { png: await pngDataUrl(inputToRgb(perturbed, width * height, sidecar), width, height), prediction: labelsToBytes(labels), width, height }
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
