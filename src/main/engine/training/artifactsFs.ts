import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'

/**
 * Minimal reader/writer of the standard tfjs on-disk layout (model.json + one weights file). The project's full
 * model IO (sidecar metadata, validation) lives in engine/modelFiles; this is what checkpoints and the pool's
 * directory loader need, and it writes files tf.loadLayersModel('file://…') also reads.
 */

export function joinWeightData(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0)
  return tf.io.CompositeArrayBuffer.join(data)
}

/** Write atomically enough for checkpoints: a crash mid-write leaves the previous model.json in place. */
async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`
  await writeFile(tmp, data)
  await rename(tmp, path)
}

export async function saveArtifactsToDir(
  dir: string,
  artifacts: tf.io.ModelArtifacts,
  opts: { jsonName?: string; weightsName?: string } = {}
): Promise<void> {
  const jsonName = opts.jsonName ?? 'model.json'
  const weightsName = opts.weightsName ?? 'weights.bin'
  await mkdir(dir, { recursive: true })
  const weights = joinWeightData(artifacts.weightData)
  // Weights first, then the json that points at them, so a reader never sees a json without its weights.
  await writeFileAtomic(join(dir, weightsName), new Uint8Array(weights))
  const json: Record<string, unknown> = {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [weightsName], weights: artifacts.weightSpecs ?? [] }]
  }
  if (artifacts.modelTopology !== undefined) json.modelTopology = artifacts.modelTopology
  if (artifacts.trainingConfig !== undefined) json.trainingConfig = artifacts.trainingConfig
  if (artifacts.userDefinedMetadata !== undefined) json.userDefinedMetadata = artifacts.userDefinedMetadata
  await writeFileAtomic(join(dir, jsonName), JSON.stringify(json))
}

export async function loadArtifactsFromDir(dir: string, opts: { jsonName?: string } = {}): Promise<tf.io.ModelArtifacts> {
  const jsonPath = join(dir, opts.jsonName ?? 'model.json')
  let json: tf.io.ModelJSON
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8')) as tf.io.ModelJSON
  } catch (err) {
    throw new AppError('MODEL_FILE_INVALID', `Cannot read ${jsonPath}: ${err instanceof Error ? err.message : String(err)}`, {
      path: jsonPath
    })
  }
  const manifest = json.weightsManifest ?? []
  const specs: tf.io.WeightsManifestEntry[] = []
  const buffers: ArrayBuffer[] = []
  for (const group of manifest) {
    specs.push(...group.weights)
    for (const p of group.paths) {
      const buf = await readFile(join(dirname(jsonPath), p))
      buffers.push(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer)
    }
  }
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
    trainingConfig: json.trainingConfig,
    userDefinedMetadata: json.userDefinedMetadata,
    weightSpecs: specs,
    weightData: tf.io.concatenateArrayBuffers(buffers)
  }
}
