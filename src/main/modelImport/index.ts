import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { AppError, isAppError } from '@common/errors'
import { parseJsonText } from '@common/jsonText'
import {
  noDescriptionFlags,
  parseClassesCsv,
  parseClassesJson,
  parseDescriptionFlags,
  type ClassPreset,
  type DescriptionFlags,
  type InputSize,
  type ModelCheck,
  type ModelInspection
} from '@common/modelDescription'
import { ModelSidecarSchema, SIDECAR_FILE, SIDECAR_FORMAT, SIDECAR_VERSION, type ModelSidecar, type ModelSidecarInput } from '@common/modelSidecar'
import { contentHash, loadModel, modelJsonPath, readSidecar, writeSidecar } from '../engine/modelFiles'
import { writeFileAtomic } from '../writeFileAtomic'
import { firstFailure, onnxChecks } from './onnxChecks'
import { fixedInputSize, guessLayout, inspectOnnx, readOnnxFile } from './onnxInspect'
import { inspectTfjs } from './tfjsInspect'

/**
 * Models as users have them: an `.onnx` file or a tfjs folder, described by flags (see common/modelDescription),
 * inspected, checked, and described on disk by Context Lens itself, hash included. ONNX descriptions live beside
 * the file as `<file>.onnx.ctxlens.json`; tfjs ones are the folder's ctxlens.model.json.
 */

export const ONNX_DESCRIPTION_SUFFIX = '.ctxlens.json'

export const isOnnxPath = (location: string): boolean => /\.onnx$/i.test(location)

export function descriptionPath(location: string): string {
  return isOnnxPath(location) ? `${resolve(location)}${ONNX_DESCRIPTION_SUFFIX}` : join(dirname(modelJsonPath(location)), SIDECAR_FILE)
}

function issuesText(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')
}

async function readOnnxDescription(file: string): Promise<ModelSidecar> {
  const path = `${file}${ONNX_DESCRIPTION_SUFFIX}`
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT'
    throw new AppError(
      'MODEL_FILE_INVALID',
      missing ? `${file} is not described yet: run \`ctxlens models describe --model ${file} --classes … --normalise …\` or pass the description flags` : `Cannot read ${path}: ${(err as Error).message}`,
      { path }
    )
  }
  const raw = parseJsonText(text)
  if (!raw.ok) throw new AppError('MODEL_FILE_INVALID', `${path} ${raw.problem}`, { path })
  const parsed = ModelSidecarSchema.safeParse(raw.value)
  if (!parsed.success) throw new AppError('MODEL_FILE_INVALID', `${path} is not a valid model description: ${issuesText(parsed.error.issues)}`, { path, issues: parsed.error.issues })
  return parsed.data
}

/** The content hash of a model's files: sha256 of the .onnx file, or tfjs's model.json + shards. */
export async function modelFileHash(location: string): Promise<string> {
  if (!isOnnxPath(location)) return contentHash(location)
  return (await readOnnxFile(resolve(location))).hash
}

/** The stored description of a model (ONNX or tfjs), without checking it against the files. */
export async function readModelDescription(location: string): Promise<ModelSidecar> {
  return isOnnxPath(location) ? readOnnxDescription(resolve(location)) : readSidecar(location)
}

async function storedDescription(location: string, hash: string): Promise<ModelSidecar | null> {
  if (!existsSync(descriptionPath(location))) return null
  const d = await readModelDescription(location)
  // A description of other weights is no description of these.
  return d.contentHash === hash ? d : null
}

async function resolveClasses(spec: ClassPreset | { file: string }): Promise<ClassPreset> {
  if (!('file' in spec)) return spec
  const path = resolve(spec.file)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new AppError('INVALID_PARAMETERS', `--classes ${path}: cannot read the file (${(err as Error).message})`, { flag: 'classes', path })
  }
  return { classes: /\.csv$/i.test(path) ? parseClassesCsv(text, path) : parseClassesJson(text, path), ignoreId: null }
}

/** What examining a model found: the file's own facts, the checks, and the description when it is complete. */
export interface ModelExamination {
  inspection: ModelInspection
  checks: ModelCheck[]
  /** The description that adding the model would store; null while a required part is missing. */
  description: ModelSidecar | null
  /** The flags still needed, e.g. ['classes', 'normalise']. */
  missing: string[]
  /** A description was already stored beside the file (and matches it). */
  stored: ModelSidecar | null
}

const modelName = (location: string): string => basename(resolve(location)).replace(/\.onnx$/i, '') || 'model'

function sameInput(a: InputSize, b: InputSize): boolean {
  return a.height === b.height && a.width === b.width && a.channels === b.channels
}

/**
 * Inspect a model file, merge the flags onto its stored description (flags win), and run every check. Never
 * throws for a failing check: the checks say what is wrong, so the dialog can show them all before storing.
 */
export async function examineModel(location: string, flags: DescriptionFlags = {}): Promise<ModelExamination> {
  const path = resolve(location)
  const parsed = parseDescriptionFlags(flags)
  const classSpec = parsed.classes ? await resolveClasses(parsed.classes) : null
  return isOnnxPath(path) ? examineOnnx(path, flags, parsed, classSpec) : examineTfjs(path, flags, parsed, classSpec)
}

type Parsed = ReturnType<typeof parseDescriptionFlags>

async function examineOnnx(path: string, flags: DescriptionFlags, parsed: Parsed, classSpec: ClassPreset | null): Promise<ModelExamination> {
  const file = await readOnnxFile(path)
  const stored = await storedDescription(path, file.hash)
  const inspection = inspectOnnx(file, flags.layout ?? stored?.layout)
  inspection.described = stored !== null
  if (!flags.layout && stored?.layoutSource) inspection.layoutSource = stored.layoutSource
  const layout = inspection.layout!
  const checks: ModelCheck[] = []

  const declared = file.ir.graph.inputs[0].shape
  const read = guessLayout(declared)
  if (flags.layout && read.source === 'graph' && read.layout !== flags.layout) {
    checks.push({
      id: 'input-size',
      status: 'error',
      code: 'INVALID_PARAMETERS',
      node: file.ir.graph.inputs[0].name,
      message: `${path}: --layout ${flags.layout} disagrees with input "${file.ir.graph.inputs[0].name}" ${JSON.stringify(declared)}, which reads as ${read.layout}`
    })
  }
  const graphInput = fixedInputSize(declared, layout)
  let input: InputSize | null = graphInput ?? parsed.input ?? stored?.input ?? null
  const graphChannels = declared?.length === 4 ? declared[layout === 'NCHW' ? 1 : 3] : null
  if (!graphInput && parsed.input && typeof graphChannels === 'number' && graphChannels !== parsed.input.channels) {
    checks.push({
      id: 'input-size',
      status: 'error',
      code: 'INVALID_PARAMETERS',
      node: file.ir.graph.inputs[0].name,
      message: `${path}: --input gives ${parsed.input.channels} channels but input "${file.ir.graph.inputs[0].name}" takes ${graphChannels}`
    })
    input = null
  }
  if (graphInput && parsed.input && !sameInput(graphInput, parsed.input)) {
    checks.push({
      id: 'input-size',
      status: 'error',
      code: 'INVALID_PARAMETERS',
      node: file.ir.graph.inputs[0].name,
      message: `${path}: --input ${parsed.input.height}x${parsed.input.width}x${parsed.input.channels} disagrees with the graph's fixed input ${graphInput.height}×${graphInput.width}×${graphInput.channels} (${layout})`
    })
    input = null
  }
  const classes = classSpec?.classes ?? stored?.classes ?? null
  const normalisation = parsed.normalisation ?? stored?.normalisation ?? null
  const output = flags.output ?? stored?.output
  const result = checks.length === 0 ? await onnxChecks(file, { layout, input, classes, normalisation, ...(output ? { output } : {}) }) : null
  if (result) checks.push(...result.checks)
  // The graph often leaves the output's size symbolic; the probe knows it.
  if (result?.outputDims && !inspection.outputShape?.every((d) => typeof d === 'number')) inspection.outputShape = result.outputDims

  const missing: string[] = []
  if (!classes) missing.push('classes')
  if (!normalisation) missing.push('normalise')
  if (!input) missing.push('input')
  let description: ModelSidecar | null = null
  if (missing.length === 0 && result && !checks.some((c) => c.status === 'error')) {
    const meta: ModelSidecarInput & Partial<ModelSidecar> = {
      name: flags.name ?? stored?.name ?? modelName(path),
      classes: classes!,
      ignoreId: flags.ignoreId !== undefined ? flags.ignoreId : classSpec ? classSpec.ignoreId : (stored?.ignoreId ?? null),
      input: input!,
      normalisation: normalisation!,
      architecture: `onnx${file.ir.producer ? ` (${file.ir.producer})` : ''}`,
      inputName: file.ir.graph.inputs[0].name,
      outputName: file.ir.graph.outputs[0].name,
      output: result.output ?? 'probabilities',
      layout,
      layoutSource: inspection.layoutSource ?? 'assumed',
      outputStride: result.outputStride ?? 1
    }
    description = complete(meta, 'onnx', file.hash, path)
  }
  return { inspection, checks, description, missing, stored }
}

function complete(meta: ModelSidecarInput, modelFormat: ModelSidecar['modelFormat'], hash: string, path: string): ModelSidecar {
  const parsed = ModelSidecarSchema.safeParse({ createdAt: new Date().toISOString(), ...meta, format: SIDECAR_FORMAT, version: SIDECAR_VERSION, modelFormat, contentHash: hash })
  if (!parsed.success) throw new AppError('INVALID_PARAMETERS', `${path}: invalid model description: ${issuesText(parsed.error.issues)}`, { path, issues: parsed.error.issues })
  return parsed.data
}

/** tfjs's own probe (loadModel's verifyModel) stops at the first failure; each code is one check. */
const TFJS_CHECK: Record<string, ModelCheck['id']> = {
  MODEL_OUTPUT_MISMATCH: 'output-channels',
  MODEL_NOT_PROBABILITIES: 'output-kind',
  MODEL_NO_GRADIENT_PATH: 'gradient-path'
}

async function examineTfjs(location: string, flags: DescriptionFlags, parsed: Parsed, classSpec: ClassPreset | null): Promise<ModelExamination> {
  const inspection = await inspectTfjs(location)
  const hash = inspection.contentHash
  const stored = await storedDescription(location, hash).catch(() => null)
  inspection.described = stored !== null
  const checks: ModelCheck[] = []
  if (flags.layout === 'NCHW') {
    checks.push({ id: 'input-size', status: 'error', code: 'INVALID_PARAMETERS', message: `${location}: TensorFlow.js models are NHWC; --layout NCHW does not apply` })
  }
  let input = inspection.fixedInput ?? parsed.input ?? stored?.input ?? null
  if (inspection.fixedInput && parsed.input && !sameInput(inspection.fixedInput, parsed.input)) {
    const f = inspection.fixedInput
    checks.push({ id: 'input-size', status: 'error', code: 'INVALID_PARAMETERS', message: `${location}: --input disagrees with the model's fixed input ${f.height}×${f.width}×${f.channels}` })
    input = null
  } else if (!input) {
    checks.push({ id: 'input-size', status: 'error', code: 'MODEL_INPUT_SIZE_UNKNOWN', message: `${location}: the model's input has no fixed size; give it with --input HxWxC` })
  }
  const classes = classSpec?.classes ?? stored?.classes ?? null
  const normalisation = parsed.normalisation ?? stored?.normalisation ?? null
  const missing: string[] = []
  if (!classes) missing.push('classes')
  if (!normalisation) missing.push('normalise')
  if (!input) missing.push('input')
  let description: ModelSidecar | null = null
  if (missing.length === 0 && !checks.some((c) => c.status === 'error')) {
    const meta: ModelSidecarInput = {
      ...(stored ?? {}),
      name: flags.name ?? stored?.name ?? modelName(location),
      classes: classes!,
      ignoreId: flags.ignoreId !== undefined ? flags.ignoreId : classSpec ? classSpec.ignoreId : (stored?.ignoreId ?? null),
      input: input!,
      normalisation: normalisation!,
      architecture: stored?.architecture ?? `tfjs ${inspection.modelFormat}`,
      output: flags.output ?? stored?.output ?? 'probabilities'
    }
    const candidate = complete(meta, inspection.modelFormat as ModelSidecar['modelFormat'], hash, location)
    try {
      const loaded = await loadModel(location, { sidecar: meta })
      loaded.dispose()
      checks.push({ id: 'output-channels', status: 'ok', message: `TensorFlow.js output [1, ${input!.height}, ${input!.width}, ${classes!.length}], probabilities, gradient reaches the input` })
      description = candidate
    } catch (err) {
      if (!isAppError(err)) throw err
      checks.push({ id: TFJS_CHECK[err.code] ?? 'probe-finite', status: 'error', code: err.code, message: `${location}: ${err.message}` })
    }
  }
  return { inspection, checks, description, missing, stored }
}

function requireComplete(location: string, e: ModelExamination): ModelSidecar {
  const failure = firstFailure(e.checks)
  if (failure) throw failure
  if (e.missing.length > 0 || !e.description) {
    throw new AppError('INVALID_PARAMETERS', `${resolve(location)} is not fully described: give ${e.missing.map((m) => `--${m}`).join(', ')}`, { missing: e.missing })
  }
  return e.description
}

/** Examine, refuse on any failed check or missing flag, and write the description beside the model. */
export async function describeModel(location: string, flags: DescriptionFlags): Promise<{ description: ModelSidecar; path: string; examination: ModelExamination }> {
  const examination = await examineModel(location, flags)
  return { ...(await storeDescription(location, requireComplete(location, examination))), examination }
}

/** A description ready to use, and how to write it beside the model (nothing to write when it was stored). */
export interface PreparedDescription {
  description: ModelSidecar
  store: () => Promise<ModelSidecar>
}

/**
 * The description to use for a model: the stored one when no flag asks for anything else (it was checked when
 * written, and the hash says the file is the same), otherwise described and checked anew. Nothing is written
 * until `store`, so a caller can still refuse it (registration does, for weights a project describes otherwise).
 */
export async function prepareDescription(location: string, flags: DescriptionFlags = {}): Promise<PreparedDescription> {
  if (noDescriptionFlags(flags) && existsSync(descriptionPath(location))) {
    const stored = await readModelDescription(location)
    const hash = await modelFileHash(location)
    if (stored.contentHash !== hash) {
      throw new AppError('MODEL_FILE_INVALID', `${resolve(location)} changed since its description ${descriptionPath(location)} was written (content hash differs): describe it again`, {
        expected: stored.contentHash,
        actual: hash
      })
    }
    return { description: stored, store: async () => stored }
  }
  const examination = await examineModel(location, flags)
  const description = requireComplete(location, examination)
  return { description, store: async () => (await storeDescription(location, description)).description }
}

async function storeDescription(location: string, description: ModelSidecar): Promise<{ description: ModelSidecar; path: string }> {
  const path = descriptionPath(location)
  if (isOnnxPath(location)) {
    await writeFileAtomic(path, `${JSON.stringify(description, null, 2)}\n`)
    return { description, path }
  }
  const { format: _f, version: _v, contentHash: _h, modelFormat: _m, ...meta } = description
  return { description: await writeSidecar(location, meta), path }
}

/** The description to use for a model (see prepareDescription), written beside it when it is new. */
export async function ensureDescribed(location: string, flags: DescriptionFlags = {}): Promise<ModelSidecar> {
  return (await prepareDescription(location, flags)).store()
}
