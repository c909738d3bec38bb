import { resolve } from 'node:path'
import type { modelMethods } from '@common/methods/models'
import type { ModelView } from '@common/methods/viewer'
import { normalisationText } from '@common/modelDescription'
import { modelSummary, registerModel, registeredSidecar, requireModel } from '../audit/registeredModels'
import { describeModel, examineModel } from '../modelImport'
import type { AreaServices } from './area'
import { sidecarOf } from './lookups'
import { checkOutputFile, writeOutputFile } from './outputFile'
import type { ServiceContext } from './context'

export function modelServices(ctx: ServiceContext): AreaServices<typeof modelMethods> {
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

    'models:add': async ({ dir, name, description }) => modelSummary(await registerModel(ctx.requireProject(), dir, name, description)),

    'models:inspect': async ({ path, description }) => {
      const e = await examineModel(path, description)
      return { inspection: e.inspection, checks: e.checks, description: e.description, missing: e.missing, stored: e.stored !== null }
    },

    'models:describe': async ({ path, description }) => {
      const d = await describeModel(path, description)
      return { descriptionPath: d.path, description: d.description, checks: d.examination.checks }
    },

    'models:exportOnnx': async ({ modelDir, path, fixedBatch, overwrite }) => {
      const file = { path: resolve(path), what: 'the ONNX model', overwrite }
      await checkOutputFile(file)
      // Loaded on use: the ONNX protobuf code is large and nothing else needs it.
      const { exportModelFolder } = await import('../engine/export/exportModelFolder')
      const r = await exportModelFolder(modelDir, { batchDim: fixedBatch ? null : 'batch' })
      await writeOutputFile(file, r.bytes)
      return { file: file.path, bytes: r.bytes.byteLength, input: r.inputName, output: r.outputName, nodes: r.nodes, ops: r.ops }
    },

    'models:show': async ({ modelId }) => {
      const project = ctx.requireProject()
      const model = requireModel(project, modelId)
      let description = null
      let descriptionError: string | null = null
      try {
        description = await registeredSidecar(model)
      } catch (err) {
        descriptionError = (err as Error).message
      }
      return { model: modelSummary(model), description, descriptionError, predictions: project.predictions.count(model.id) }
    }
  }
}
