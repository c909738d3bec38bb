import type { modelMethods } from '@common/methods/models'
import { modelSummary, registeredSidecar, requireModel } from '../audit/models'
import { describeModel, examineModel } from '../modelImport'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'

export function modelServices(ctx: ServiceContext): AreaServices<typeof modelMethods> {
  return {
    'models:inspect': async ({ path, description }) => {
      const e = await examineModel(path, description)
      return { inspection: e.inspection, checks: e.checks, description: e.description, missing: e.missing, stored: e.stored !== null }
    },

    'models:describe': async ({ path, description }) => {
      const d = await describeModel(path, description)
      return { descriptionPath: d.path, description: d.description, checks: d.examination.checks }
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
