import { resolve } from 'node:path'
import type { ModelSummary } from '@common/audit'
import { AppError } from '@common/errors'
import type { DescriptionFlags } from '@common/modelDescription'
import type { ModelSidecar } from '@common/modelSidecar'
import type { Project } from '@main/store/project'
import type { ModelRecord } from '@main/store/repositories/models'
import { descriptionPath, prepareDescription, readModelDescription } from '../modelImport'
import { descriptionDifferences } from '../modelImport/descriptionDiff'

/**
 * Register a model (a tfjs folder or an .onnx file) in a project, describing it first when description flags are
 * given or none is stored (see modelImport). The content hash identifies it: the same weights registered twice
 * are one model, and files changed since their description was written are refused. The same weights described
 * otherwise (other classes, normalisation, ...) are refused before the new description is written, naming the
 * model they are registered as: returning that model would score the new classes as the old ones.
 */
export async function registerModel(project: Project, location: string, name?: string, flags: DescriptionFlags = {}): Promise<ModelRecord> {
  const path = resolve(location)
  const prepared = await prepareDescription(path, flags)
  const existing = project.models.byHash(prepared.description.contentHash)
  const registered = existing ? registeredDescription(existing) : null
  if (existing && registered) {
    const differences = descriptionDifferences(registered, prepared.description)
    if (differences.length > 0) {
      throw new AppError(
        'CONFLICT',
        `${path} holds the same weights as model #${existing.id} "${existing.name}" (${existing.dir}), registered with another description (${differences.join('; ')}). ` +
          `A project keeps one description per weights: use model #${existing.id} (a dataset that names its classes otherwise takes a class map at predict time), or register this one in another project`,
        { modelId: existing.id, name: existing.name, dir: existing.dir, differences }
      )
    }
  }
  const sidecar = await prepared.store()
  return project.models.register({
    name: name ?? sidecar.name,
    dir: path,
    architecture: sidecar.architecture,
    classSetId: null,
    contentHash: sidecar.contentHash,
    config: { sidecar }
  })
}

/** The description a model was registered with (stored in the project, so it survives edits beside the files). */
function registeredDescription(model: ModelRecord): ModelSidecar | null {
  return (model.config as { sidecar?: ModelSidecar }).sidecar ?? null
}

export function requireModel(project: Project, modelId: number): ModelRecord {
  const model = project.models.get(modelId)
  if (!model) throw new AppError('NOT_FOUND', `No model with id ${modelId} in this project`, { modelId })
  return model
}

/**
 * The sidecar of a registered model, read from its folder and checked against the registered hash and
 * description, so results are never computed with weights, or classes, other than the ones the project knows.
 */
export async function registeredSidecar(model: ModelRecord): Promise<ModelSidecar> {
  const sidecar = await readModelDescription(model.dir)
  if (sidecar.contentHash !== model.contentHash) {
    throw new AppError('MODEL_FILE_INVALID', `The model files in ${model.dir} are not the ones registered as model ${model.id} (content hash differs)`, {
      modelId: model.id
    })
  }
  // Described again since (models describe): results would mix what its outputs meant then and now.
  const registered = registeredDescription(model)
  const differences = registered ? descriptionDifferences(registered, sidecar) : []
  if (differences.length > 0) {
    throw new AppError(
      'MODEL_FILE_INVALID',
      `${descriptionPath(model.dir)} no longer describes model #${model.id} "${model.name}" as registered (${differences.join('; ')}): describe it as it was registered, or use it in another project`,
      { modelId: model.id, path: descriptionPath(model.dir), differences }
    )
  }
  return sidecar
}

export function modelSummary(model: ModelRecord): ModelSummary {
  const sidecar = (model.config as { sidecar?: ModelSidecar }).sidecar
  return {
    id: model.id,
    name: model.name,
    dir: model.dir,
    architecture: model.architecture,
    contentHash: model.contentHash,
    classes: sidecar?.classes ?? [],
    input: sidecar?.input ?? { height: 0, width: 0, channels: 0 },
    modelFormat: sidecar?.modelFormat ?? null,
    createdAt: model.createdAt
  }
}
