import type { ClassMapInput, ClassMapping } from '@common/audit'
import { describeMapping, normaliseClassName } from '@common/classMapping'
import { AppError } from '@common/errors'
import type { ModelSidecar } from '@common/modelSidecar'
import type { ClassDef } from '@common/types'
import type { Project } from '@main/store/project'
import type { ModelRecord } from '@main/store/repositories/models'

/**
 * Matching a model's classes to a dataset's by name before anything is scored. Matching by id alone scored the
 * demo model's vegetation, sky and car as Cityscapes' wall, fence and pole; a name says what a class is, an id
 * only where it sits in one list.
 */

type ClassRef = { id: number; name: string }
export interface NamedClassSet {
  /** What the error names: `model "demo-unet" (#2)`. */
  label: string
  classes: ClassDef[]
}

export { normaliseClassName }

const ref = (c: ClassDef): ClassRef => ({ id: c.id, name: c.name })
const listText = (classes: ClassDef[]): string => classes.map((c) => `${c.id} ${c.name}`).join(', ')

/** Names that occur once in the list, so a match by name is unambiguous. */
function byUniqueName(classes: ClassDef[]): { unique: Map<string, ClassDef>; repeated: Set<string> } {
  const unique = new Map<string, ClassDef>()
  const repeated = new Set<string>()
  for (const c of classes) {
    const key = normaliseClassName(c.name)
    if (unique.has(key) || repeated.has(key)) {
      unique.delete(key)
      repeated.add(key)
    } else unique.set(key, c)
  }
  return { unique, repeated }
}

/** A class given in a class map: by name first (case-insensitive), else by id when the text is a number. */
function findClass(set: NamedClassSet, text: string, side: 'model' | 'dataset'): ClassDef {
  const key = normaliseClassName(text)
  const named = set.classes.filter((c) => normaliseClassName(c.name) === key)
  if (named.length === 1) return named[0]
  if (named.length > 1) throw new AppError('INVALID_PARAMETERS', `Class map: "${text}" names ${named.length} classes of ${set.label} (${listText(named)}); give its id instead`)
  const byId = /^\d+$/.test(key) ? set.classes.find((c) => c.id === Number(key)) : undefined
  if (byId) return byId
  throw new AppError('INVALID_PARAMETERS', `Class map: "${text}" is not a ${side} class; ${set.label} has ${listText(set.classes)}`, { [side]: text })
}

function mismatch(model: NamedClassSet, dataset: NamedClassSet, unmatched: ClassDef[], why: string): AppError {
  return new AppError(
    'CLASS_SET_MISMATCH',
    `The classes of ${model.label} do not match those of ${dataset.label}: ${why}. ` +
      `Model classes: ${listText(model.classes)}. Dataset classes: ${listText(dataset.classes)}. ` +
      `Scoring by id would count one class as another; give a class map (model=dataset pairs, CLI --class-map) to say which is which.`,
    { model: model.classes.map(ref), dataset: dataset.classes.map(ref), unmatched: unmatched.map(ref) }
  )
}

/**
 * The mapping from the model's classes (in output-channel order) to the dataset's: identical lists pass as they
 * are; otherwise every model class must find its dataset class, by the user's map or by name, one model class
 * per dataset class (two channels counted as one class would need their probabilities merged). Anything else is
 * CLASS_SET_MISMATCH with both lists.
 */
export function resolveClassMapping(model: NamedClassSet, dataset: NamedClassSet, explicit?: ClassMapInput): ClassMapping {
  const target = new Map<ClassDef, ClassDef>()
  if (explicit) {
    for (const entry of explicit) {
      const m = findClass(model, entry.model, 'model')
      if (target.has(m)) throw new AppError('INVALID_PARAMETERS', `Class map: model class "${m.name}" is mapped twice`, { model: entry.model })
      target.set(m, findClass(dataset, entry.dataset, 'dataset'))
    }
  }
  const { unique: datasetByName, repeated } = byUniqueName(dataset.classes)
  const modelNames = byUniqueName(model.classes)
  const unmatched: ClassDef[] = []
  for (const m of model.classes) {
    if (target.has(m)) continue
    const key = normaliseClassName(m.name)
    const d = modelNames.repeated.has(key) || repeated.has(key) ? undefined : datasetByName.get(key)
    if (d) target.set(m, d)
    else unmatched.push(m)
  }
  if (unmatched.length > 0) {
    const ambiguous = unmatched.filter((m) => modelNames.repeated.has(normaliseClassName(m.name)) || repeated.has(normaliseClassName(m.name)))
    const why =
      ambiguous.length > 0
        ? `the name${ambiguous.length > 1 ? 's' : ''} ${[...new Set(ambiguous.map((m) => `"${m.name}"`))].join(', ')} occur more than once`
        : `the model's ${unmatched.map((m) => `"${m.name}"`).join(', ')} ${unmatched.length > 1 ? 'are not classes' : 'is not a class'} of the dataset`
    throw mismatch(model, dataset, unmatched, why)
  }
  const seen = new Map<ClassDef, ClassDef>()
  for (const m of model.classes) {
    const d = target.get(m)!
    const other = seen.get(d)
    if (other) {
      throw mismatch(model, dataset, [other, m], `the model's "${other.name}" and "${m.name}" would both count as the dataset's "${d.name}"; map each model class to a class of its own`)
    }
    seen.set(d, m)
  }
  const pairs = model.classes.map((m) => ({ model: ref(m), dataset: ref(target.get(m)!) }))
  const unpredicted = dataset.classes.filter((d) => !seen.has(d)).map(ref)
  const sameIds = pairs.every((p) => p.model.id === p.dataset.id)
  const sameNames = pairs.every((p) => normaliseClassName(p.model.name) === normaliseClassName(p.dataset.name))
  const basis = explicit ? 'explicit' : sameIds && sameNames && unpredicted.length === 0 ? 'identical' : 'names'
  return { basis, pairs, unpredicted }
}

/** Model class id → dataset class id, as a lookup per output channel. */
export function datasetIdPerChannel(mapping: ClassMapping): number[] {
  return mapping.pairs.map((p) => p.dataset.id)
}

/** Whether two mappings send every model class to the same dataset class (the basis aside). */
export function sameMapping(a: ClassMapping, b: ClassMapping): boolean {
  const key = (m: ClassMapping): string => m.pairs.map((p) => `${p.model.id}>${p.dataset.id}`).sort().join(',')
  return key(a) === key(b)
}

/** What predictions stored before mappings existed used: each model class id as the dataset's id. */
export function idMapping(modelClasses: ClassDef[], datasetClasses: ClassDef[]): ClassMapping {
  const byId = new Map(datasetClasses.map((c) => [c.id, c]))
  const pairs = modelClasses.map((m) => ({ model: ref(m), dataset: byId.has(m.id) ? ref(byId.get(m.id)!) : ref(m) }))
  return { basis: 'identical', pairs, unpredicted: datasetClasses.filter((d) => !modelClasses.some((m) => m.id === d.id)).map(ref) }
}

export { describeMapping }

// ---- the mapping a project stores -----------------------------------------------------------------------------

/** Stored in the model's config per dataset: the ids its predictions of that dataset were stored in. */
const mapsOf = (model: ModelRecord): Record<string, ClassMapping> => (model.config as { classMaps?: Record<string, ClassMapping> }).classMaps ?? {}

export function storedClassMapping(model: ModelRecord, datasetId: number): ClassMapping | null {
  return mapsOf(model)[String(datasetId)] ?? null
}

function saveClassMapping(project: Project, modelId: number, datasetId: number, mapping: ClassMapping): void {
  const current = project.models.get(modelId)!
  project.models.setConfig(modelId, { ...current.config, classMaps: { ...mapsOf(current), [String(datasetId)]: mapping } })
}

function classSets(project: Project, model: ModelRecord, sidecar: ModelSidecar, datasetId: number): { model: NamedClassSet; dataset: NamedClassSet } {
  const dataset = project.datasets.get(datasetId)
  if (!dataset) throw new AppError('NOT_FOUND', `No dataset ${datasetId}`, { datasetId })
  return {
    model: { label: `model "${model.name}" (#${model.id})`, classes: sidecar.classes },
    dataset: { label: `dataset "${dataset.name}" (#${dataset.id})`, classes: project.classSets.get(dataset.classSetId)?.classes ?? [] }
  }
}

/**
 * The mapping a prediction run decodes with, stored with the model for the dataset (reports and audits read it
 * there). Refused when it differs from the mapping of predictions the run would not replace (other splits), so
 * one dataset's predictions never mix two id spaces.
 */
export function classMappingForPredict(
  project: Project,
  model: ModelRecord,
  sidecar: ModelSidecar,
  datasetId: number,
  options: { split?: string; classMap?: ClassMapInput }
): ClassMapping {
  const sets = classSets(project, model, sidecar, datasetId)
  const mapping = resolveClassMapping(sets.model, sets.dataset, options.classMap)
  const kept = options.split ? project.predictions.countForDataset(model.id, datasetId, options.split) : 0
  if (kept > 0) {
    // Predictions stored before mappings were kept the model's ids.
    const previous = storedClassMapping(model, datasetId) ?? idMapping(sets.model.classes, sets.dataset.classes)
    if (!sameMapping(previous, mapping)) {
      throw new AppError(
        'CONFLICT',
        `${kept} predictions of ${sets.model.label} on other splits of ${sets.dataset.label} count its classes differently (${describeMapping(previous) || 'by identical lists'}); predict the whole dataset to change the class map`,
        { modelId: model.id, datasetId, previous, requested: mapping }
      )
    }
  }
  saveClassMapping(project, model.id, datasetId, mapping)
  return mapping
}

/**
 * The mapping an audit's segments were extracted with. A class map given here must be the one the dataset was
 * predicted with; predictions stored before mappings counted model ids as dataset ids, which is only right when
 * the names agree.
 */
export function classMappingForAudit(project: Project, model: ModelRecord, sidecar: ModelSidecar, datasetId: number, classMap?: ClassMapInput): ClassMapping {
  const sets = classSets(project, model, sidecar, datasetId)
  const stored = storedClassMapping(model, datasetId)
  const given = classMap || !stored ? resolveClassMapping(sets.model, sets.dataset, classMap) : null
  const predictedWith = stored ?? (project.predictions.countForDataset(model.id, datasetId) > 0 ? idMapping(sets.model.classes, sets.dataset.classes) : null)
  if (given && predictedWith && !sameMapping(given, predictedWith)) {
    const how = stored
      ? `with another class map (${describeMapping(stored) || 'identical class lists'})`
      : `before class maps were stored, counting the model's class ids as the dataset's`
    throw new AppError(
      'CLASS_SET_MISMATCH',
      `${sets.dataset.label} was predicted with ${sets.model.label} ${how}, which is not ${describeMapping(given) ? `the mapping here (${describeMapping(given)})` : 'what the class lists say'}; predict the dataset again first`,
      { modelId: model.id, datasetId, predictedWith, requested: given }
    )
  }
  return stored ?? given!
}
