import { mkdir, readFile } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import { parseJsonText } from '@common/jsonText'
import { writeFileAtomic } from '../../writeFileAtomic'

/**
 * tf.io.IOHandler over the local file system, in the layout tfjs's own file:// handler (tfjs-node) and
 * tensorflowjs_converter write: `model.json` plus binary weight shards named in its weightsManifest. Pure
 * tfjs has no file handler in Node, and tfjs-node cannot be installed everywhere.
 */

export const MODEL_JSON = 'model.json'
/** tfjs's own shard size, so files look like what the converter makes. */
const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024

/** A model location: a directory holding model.json, or the path of the model JSON file itself. */
export function modelJsonPath(location: string): string {
  return location.toLowerCase().endsWith('.json') ? resolve(location) : resolve(location, MODEL_JSON)
}

function invalid(message: string, details?: unknown): AppError {
  return new AppError('MODEL_FILE_INVALID', message, details)
}

/** Read and parse model.json; anything that is not a tfjs model JSON is MODEL_FILE_INVALID. */
export async function readModelJson(jsonPath: string): Promise<{ bytes: Buffer; json: tf.io.ModelJSON }> {
  let bytes: Buffer
  try {
    bytes = await readFile(jsonPath)
  } catch (err) {
    throw invalid(`Cannot read ${jsonPath}: ${(err as Error).message}`, { path: jsonPath })
  }
  const parsed = parseJsonText(bytes.toString('utf8'))
  if (!parsed.ok) throw invalid(`${jsonPath} ${parsed.problem}`, { path: jsonPath })
  const json = parsed.value
  if (typeof json !== 'object' || json === null || typeof (json as { modelTopology?: unknown }).modelTopology !== 'object') {
    throw invalid(`${jsonPath} has no modelTopology: not a TensorFlow.js model`, { path: jsonPath })
  }
  const manifest = (json as { weightsManifest?: unknown }).weightsManifest
  if (manifest !== undefined) {
    const ok =
      Array.isArray(manifest) &&
      manifest.every(
        (g) =>
          typeof g === 'object' &&
          g !== null &&
          Array.isArray((g as { paths?: unknown }).paths) &&
          (g as { paths: unknown[] }).paths.every((p) => typeof p === 'string') &&
          Array.isArray((g as { weights?: unknown }).weights)
      )
    if (!ok) throw invalid(`${jsonPath} has a malformed weightsManifest`, { path: jsonPath })
  }
  return { bytes, json: json as tf.io.ModelJSON }
}

/** Shard paths in manifest order, resolved next to model.json and refused if they point outside its folder. */
export function shardPaths(jsonPath: string, manifest: tf.io.WeightsManifestConfig | undefined): string[] {
  const dir = dirname(jsonPath)
  const out: string[] = []
  for (const group of manifest ?? []) {
    for (const p of group.paths) {
      const full = resolve(dir, p)
      const rel = relative(dir, full)
      if (isAbsolute(p) || rel.startsWith('..') || isAbsolute(rel)) {
        throw invalid(`Weight file "${p}" lies outside the model folder`, { path: p })
      }
      out.push(full)
    }
  }
  return out
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 }

/** Bytes the specs need, or null when a string tensor makes the size data-dependent. */
function expectedBytes(specs: tf.io.WeightsManifestEntry[]): number | null {
  let total = 0
  for (const s of specs) {
    const dtype = s.quantization?.dtype ?? s.dtype
    const per = BYTES[dtype]
    if (per === undefined) return null
    total += s.shape.reduce((a, b) => a * b, 1) * per
  }
  return total
}

/**
 * Refuses shards whose bytes are not what model.json's weight specs need, naming the files: a truncated shard
 * (or one from another model) otherwise passes a hash recomputed over it and fails only at inference. The loader
 * reads the groups as one buffer, so the total decides; the groups narrow down which files are wrong.
 */
export function checkWeightBytes(jsonPath: string, manifest: tf.io.WeightsManifestConfig | undefined, sizes: number[]): void {
  const groups = manifest ?? []
  const expected = expectedBytes(groups.flatMap((g) => g.weights))
  const actual = sizes.reduce((a, b) => a + b, 0)
  if (expected === null || expected === actual) return
  const dir = dirname(jsonPath)
  let at = 0
  const wrong: string[] = []
  for (const group of groups) {
    const files = group.paths.length
    const held = sizes.slice(at, at + files).reduce((a, b) => a + b, 0)
    at += files
    const needed = expectedBytes(group.weights)
    if (needed === null || needed === held) continue
    const names = group.paths.join(', ')
    wrong.push(files === 1 ? `${names} holds ${held} bytes where ${needed} are described` : `${names} hold ${held} bytes together where ${needed} are described`)
  }
  throw invalid(`Weight files in ${dir} do not match ${basename(jsonPath)} (${wrong.join('; ') || `${actual} bytes where ${expected} are described`}): truncated, or from another model`, {
    path: dir,
    actual,
    expected
  })
}

async function readShards(jsonPath: string, manifest: tf.io.WeightsManifestConfig): Promise<[tf.io.WeightsManifestEntry[], ArrayBuffer]> {
  const buffers: Buffer[] = []
  for (const path of shardPaths(jsonPath, manifest)) {
    try {
      buffers.push(await readFile(path))
    } catch (err) {
      throw invalid(`Cannot read weight file ${path}: ${(err as Error).message}`, { path })
    }
  }
  checkWeightBytes(jsonPath, manifest, buffers.map((b) => b.byteLength))
  const specs = manifest.flatMap((g) => g.weights)
  const joined = Buffer.concat(buffers)
  return [specs, joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength) as ArrayBuffer]
}

/**
 * The artifacts of the model at `location` (a folder, or the path of model.json), with the checks of readModelJson
 * and the shards' paths and sizes, for callers that build the model themselves (pool workers, checkpoints).
 */
export async function loadModelArtifacts(location: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = modelJsonPath(location)
  const { json } = await readModelJson(jsonPath)
  return tf.io.getModelArtifactsForJSON(json, (manifest) => readShards(jsonPath, manifest))
}

export interface FsHandlerOptions {
  /** Largest weight shard in bytes (default 4 MiB, as tfjs writes them). */
  shardBytes?: number
}

/** An IOHandler that saves to and loads from `location` (a folder, or the path of model.json). */
export function fsHandler(location: string, options: FsHandlerOptions = {}): tf.io.IOHandler {
  const jsonPath = modelJsonPath(location)
  const shardBytes = options.shardBytes ?? DEFAULT_SHARD_BYTES

  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new AppError('INVALID_PARAMETERS', 'Saving a binary (protobuf) model topology is not supported')
      }
      const dir = dirname(jsonPath)
      await mkdir(dir, { recursive: true })
      const data = new Uint8Array(artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0))
      const count = Math.max(1, Math.ceil(data.byteLength / shardBytes))
      const paths: string[] = []
      for (let i = 0; i < count; i++) {
        const name = `group1-shard${i + 1}of${count}.bin`
        paths.push(name)
        await writeFileAtomic(join(dir, name), data.subarray(i * shardBytes, Math.min(data.byteLength, (i + 1) * shardBytes)))
      }
      const manifest: tf.io.WeightsManifestConfig = [{ paths, weights: artifacts.weightSpecs ?? [] }]
      // The fields tfjs's own handlers write (its helper for this is not exported from tf.io).
      const modelJson: tf.io.ModelJSON = { modelTopology: artifacts.modelTopology ?? {}, format: artifacts.format, generatedBy: artifacts.generatedBy, convertedBy: artifacts.convertedBy, weightsManifest: manifest }
      if (artifacts.trainingConfig != null) modelJson.trainingConfig = artifacts.trainingConfig
      if (artifacts.signature != null) modelJson.signature = artifacts.signature
      if (artifacts.userDefinedMetadata != null) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata
      if (artifacts.modelInitializer != null) modelJson.modelInitializer = artifacts.modelInitializer
      if (artifacts.initializerSignature != null) modelJson.initializerSignature = artifacts.initializerSignature
      // Written last: a model.json on disk always refers to complete shards.
      await writeFileAtomic(jsonPath, JSON.stringify(modelJson))
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) }
    },

    load: () => loadModelArtifacts(jsonPath)
  }
}
