import { resolve } from 'node:path'
import { AppError } from '@common/errors'
import { maskFromRuns } from '@common/maskRuns'
import { faithfulnessParams } from '@common/saliency'
import { storedClassMapping } from '../audit/classMapping'
import { channelForDatasetClass } from '../classChannels'
import { loadImage } from '../datasets/import'
import { explainSegment, explanationRecord } from '../jobs/explainSegment'
import { requireModel } from '../audit/registeredModels'
import { explanationView } from '../viewer/explanationView'
import { modelRgb } from '../viewer/modelInput'
import { explainImage } from '../explain/explainImage'
import { poolEngine, queuedMessage } from '../jobs/saliencyEngine'
import { ensureDescribed } from '../modelImport'
import { requireModelRuntime } from '../modelImport/runtime'
import { presetSaliencyParams } from '../saliency'
import type { explainMethods } from '@common/methods/explain'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'
import { requireImage, sidecarOf } from './lookups'

export function explainServices(ctx: ServiceContext): AreaServices<typeof explainMethods> {
  return {
    'explain:image': (input) =>
      ctx.tasks.run(`explain ${input.method}`, async (task) => {
        const modelDir = resolve(input.modelDir)
        const sidecar = await ensureDescribed(modelDir, input.description)
        await requireModelRuntime(modelDir, sidecar)
        // Checked before the engine starts: bad parameters fail here as they would in explainImage.
        const faithfulness = faithfulnessParams(presetSaliencyParams(input.method, input.preset, input.params), input.preset)
        // Its pictures are at image size: the workers upsample, off the thread that serves the caller.
        const engine = poolEngine(await ctx.engine(), modelDir, sidecar, { priority: 'interactive', faithfulness, upsample: true })
        return explainImage(engine, { ...input, imagePath: resolve(input.imagePath), outDir: resolve(input.outDir) }, {
          signal: task.signal,
          onQueued: (load) => task.progress(0, 0, queuedMessage(load)),
          onProgress: (step, steps) => task.progress(step, steps)
        })
      }, { interactive: true }),

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
      const image = modelRgb(await loadImage(project, input.imageId), sidecar)

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
    }
  }
}
