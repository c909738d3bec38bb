import type { ClassMapping } from '@common/audit'
import { AppError } from '@common/errors'
import type { ModelSidecar } from '@common/modelSidecar'

/**
 * Class ids → the model's output channels, the one place ids become channels. Beside the class mappings (which
 * audit/classMapping.ts resolves and stores) rather than in audit/, since the image screen, `ctxlens explain`
 * and every job ask the same question of a model's class list.
 */

const listText = (classes: { id: number; name: string }[]): string => classes.map((c) => `${c.id} ${c.name}`).join(', ')

/** The model class whose output stands for a dataset class, or null when the model has none. */
export function modelClassOf(mapping: ClassMapping | null, datasetClassId: number): number | null {
  if (!mapping) return datasetClassId
  return mapping.pairs.find((p) => p.dataset.id === datasetClassId)?.model.id ?? null
}

/** The output channel of one of the model's own class ids, or -1: the one place ids become channels. */
function outputChannel(sidecar: ModelSidecar, modelClassId: number): number {
  return sidecar.classes.findIndex((c) => c.id === modelClassId)
}

/** The output channel of a class id the user gave in the model's own terms (`ctxlens explain`: no dataset). */
export function channelOfModelClass(sidecar: ModelSidecar, classId: number): number {
  const channel = outputChannel(sidecar, classId)
  if (channel < 0) {
    throw new AppError('UNKNOWN_CLASS_ID', `Class ${classId} is not one of the model's classes (${listText(sidecar.classes)})`, {
      classId
    })
  }
  return channel
}

/** The output channel that answers for a dataset class, through the job's mapping (none: ids are the model's). */
export function channelForDatasetClass(sidecar: ModelSidecar, mapping: ClassMapping | null, datasetClassId: number): number {
  const modelId = modelClassOf(mapping, datasetClassId)
  const channel = modelId === null ? -1 : outputChannel(sidecar, modelId)
  if (channel < 0) {
    const name = mapping?.pairs.find((p) => p.dataset.id === datasetClassId)?.dataset.name ?? mapping?.unpredicted.find((c) => c.id === datasetClassId)?.name
    throw new AppError('UNKNOWN_CLASS_ID', `The model has no output for the dataset's class ${datasetClassId}${name ? ` (${name})` : ''}; its classes are ${listText(sidecar.classes)}`, {
      classId: datasetClassId
    })
  }
  return channel
}
