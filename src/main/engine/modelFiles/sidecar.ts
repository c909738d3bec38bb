import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import { parseJsonText } from '@common/jsonText'
import { ModelSidecarSchema, SIDECAR_FILE, SIDECAR_FORMAT, SIDECAR_VERSION, type ModelFormat, type ModelSidecar, type ModelSidecarInput } from '@common/modelSidecar'
import { checkWeightBytes, fsHandler, modelJsonPath, readModelJson, shardPaths } from './fsHandler'
import { writeFileAtomic } from '../../writeFileAtomic'

export function sidecarPath(location: string): string {
  return join(dirname(modelJsonPath(location)), SIDECAR_FILE)
}

/**
 * sha256 over model.json's bytes followed by every weight shard in manifest order, as hex; shards whose sizes
 * are not what model.json describes are MODEL_FILE_INVALID, named.
 */
export async function contentHash(location: string): Promise<string> {
  const jsonPath = modelJsonPath(location)
  const { bytes, json } = await readModelJson(jsonPath)
  const hash = createHash('sha256').update(bytes)
  const sizes: number[] = []
  for (const path of shardPaths(jsonPath, json.weightsManifest)) {
    let shard: Buffer
    try {
      shard = await readFile(path)
    } catch (err) {
      throw new AppError('MODEL_FILE_INVALID', `Cannot read weight file ${path}: ${(err as Error).message}`, { path })
    }
    hash.update(shard)
    sizes.push(shard.byteLength)
  }
  // Every registration and description hashes the files: the place to refuse shards model.json does not describe.
  checkWeightBytes(jsonPath, json.weightsManifest, sizes)
  return hash.digest('hex')
}

/**
 * Which tfjs model kind a model.json holds. The converter writes `format`; older files and hand-made ones may
 * not, so the topology decides: Keras JSON has `class_name`/`config`, a TF graph has `node`.
 */
export function detectModelFormat(json: tf.io.ModelJSON): ModelFormat {
  const topology = json.modelTopology as Record<string, unknown>
  if (json.format === 'graph-model' || Array.isArray(topology.node)) return 'graph-model'
  if (json.format === 'layers-model' || 'class_name' in topology || 'model_config' in topology) return 'layers-model'
  throw new AppError('MODEL_FILE_INVALID', `Unrecognised model format "${json.format ?? '(none)'}": expected a tfjs layers-model or graph-model`, {
    format: json.format
  })
}

export function completeSidecar(meta: ModelSidecarInput, modelFormat: ModelFormat, hash: string): ModelSidecar {
  const parsed = ModelSidecarSchema.safeParse({
    createdAt: new Date().toISOString(),
    ...meta,
    format: SIDECAR_FORMAT,
    version: SIDECAR_VERSION,
    modelFormat,
    contentHash: hash
  })
  if (!parsed.success) {
    throw new AppError('INVALID_PARAMETERS', `Invalid model description: ${issuesText(parsed.error.issues)}`, { issues: parsed.error.issues })
  }
  return parsed.data
}

function issuesText(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')
}

/** Write ctxlens.model.json for the model files at `location`, hashing them as they are now. */
export async function writeSidecar(location: string, meta: ModelSidecarInput): Promise<ModelSidecar> {
  const { json } = await readModelJson(modelJsonPath(location))
  const sidecar = completeSidecar(meta, detectModelFormat(json), await contentHash(location))
  await writeFileAtomic(sidecarPath(location), `${JSON.stringify(sidecar, null, 2)}\n`)
  return sidecar
}

/** Save a Layers model (model.json, shards) and its sidecar; returns the sidecar written. */
export async function saveModel(model: tf.LayersModel, location: string, meta: ModelSidecarInput): Promise<ModelSidecar> {
  // Validate before touching the disk, so a bad description leaves no half-written model behind.
  completeSidecar(meta, 'layers-model', '0'.repeat(64))
  await model.save(fsHandler(location))
  return writeSidecar(location, meta)
}

/** Read and validate ctxlens.model.json; a missing or malformed sidecar is MODEL_FILE_INVALID. */
export async function readSidecar(location: string): Promise<ModelSidecar> {
  const path = sidecarPath(location)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new AppError('MODEL_FILE_INVALID', `Cannot read ${path}: ${(err as Error).message}`, { path })
  }
  const raw = parseJsonText(text)
  if (!raw.ok) throw new AppError('MODEL_FILE_INVALID', `${path} ${raw.problem}`, { path })
  const parsed = ModelSidecarSchema.safeParse(raw.value)
  if (!parsed.success) {
    throw new AppError('MODEL_FILE_INVALID', `${path} is not a valid model description: ${issuesText(parsed.error.issues)}`, {
      path,
      issues: parsed.error.issues
    })
  }
  return parsed.data
}
