import { statSync } from 'node:fs'
import { AppError } from '@common/errors'
import type { ModelSidecar } from '@common/modelSidecar'
import { descriptionPath, readModelDescription } from '../modelImport'
import type { Project } from '../store/project'
import type { ModelRecord } from '../store/repositories/models'

// What several areas' services look up in the open project: a dataset or image by id (NOT_FOUND otherwise) and a
// registered model's description.

export function requireDataset(project: Project, datasetId: number): void {
  if (!project.datasets.get(datasetId)) throw new AppError('NOT_FOUND', `No dataset with id ${datasetId} in this project`, { datasetId })
}

export function requireImage(project: Project, imageId: number) {
  const image = project.datasets.image(imageId)
  if (!image) throw new AppError('NOT_FOUND', `No image with id ${imageId} in this project`, { imageId })
  return image
}

/**
 * Descriptions are read once per model and version of its description file: the image view asks for them on every
 * run, and a model described anew (models describe, or added with other flags) must show its new description.
 */
const sidecars = new Map<string, Promise<ModelSidecar>>()
export function sidecarOf(model: ModelRecord): Promise<ModelSidecar> {
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
