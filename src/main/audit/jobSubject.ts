import type { JobSubject } from '@common/methods/core'
import type { JobSummary } from '@common/types'
import { datasetSource } from '../datasets/import'
import type { Project } from '../store/project'

interface StoredParams {
  datasetId?: unknown
  modelId?: unknown
  preset?: unknown
  saliency?: { method?: unknown }
  selection?: { classes?: unknown }
}

const id = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null)

/**
 * What a job works on, read from its stored parameters by the names audits use (datasetId, modelId, saliency,
 * selection.classes, preset), so another job kind storing the same names is described too. A dataset or model
 * deleted since reads as null; nothing here throws, since the Jobs list must show every job.
 */
export function jobSubject(project: Project, job: Pick<JobSummary, 'id'>): JobSubject {
  let p: StoredParams = {}
  try {
    p = project.jobs.params<StoredParams>(job.id)
  } catch {
    // A job without readable parameters still lists, undescribed.
  }
  const datasetId = id(p.datasetId)
  const modelId = id(p.modelId)
  const dataset = datasetId === null ? null : project.datasets.get(datasetId)
  let classes: string[] | null = null
  if (Array.isArray(p.selection?.classes)) {
    let defs: { id: number; name: string }[] = []
    try {
      defs = dataset ? (project.classSets.get(datasetSource(project, dataset.id).classSetId)?.classes ?? []) : []
    } catch {
      // Without its class set a class is named by its id.
    }
    classes = (p.selection.classes as unknown[]).map((c) => defs.find((d) => d.id === c)?.name ?? `class ${String(c)}`)
  }
  return {
    dataset: dataset?.name ?? null,
    model: modelId === null ? null : (project.models.get(modelId)?.name ?? null),
    classes,
    method: typeof p.saliency?.method === 'string' ? p.saliency.method : null,
    preset: typeof p.preset === 'string' ? p.preset : null
  }
}
