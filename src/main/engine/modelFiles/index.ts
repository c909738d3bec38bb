import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { AppError, isAppError } from '@common/errors'
import { parseJsonText } from '@common/jsonText'
import {
  ModelSidecarSchema,
  SIDECAR_FILE,
  SIDECAR_FORMAT,
  SIDECAR_VERSION,
  normalisationAffine,
  type ModelFormat,
  type ModelSidecar,
  type ModelSidecarInput
} from '@common/models'
import { registerZooLayers } from '../models/index'
import { checkWeightBytes, fsHandler, modelJsonPath, readModelJson, shardPaths } from './fsHandler'
import { uniform01 } from '../../prng'
import { writeFileAtomic } from '../../writeFileAtomic'

export { fsHandler, modelJsonPath, MODEL_JSON } from './fsHandler'

/** A model ready for inference and gradients. `predict` maps [n,h,w,c] input to [n,h,w,classes] probabilities. */
export interface LoadedModel {
  sidecar: ModelSidecar
  format: ModelFormat
  model: tf.LayersModel | tf.GraphModel
  predict(x: tf.Tensor4D): tf.Tensor4D
  dispose(): void
}

export interface VerifyOptions {
  /** Check output shape against input and class list (default true). */
  shape?: boolean
  /** Check the output is a probability map (default true). */
  probabilities?: boolean
  /**
   * Check a gradient reaches the input (default true). Turn off for models whose gradients the current backend
   * cannot compute yet (tfjs refuses gradients of dilated convolutions unless the engine registers them).
   */
  gradient?: boolean
}

export interface LoadOptions {
  /** Description for a model folder without ctxlens.model.json (an imported user model). */
  sidecar?: ModelSidecarInput
  verify?: VerifyOptions
}

function sidecarPath(location: string): string {
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

function completeSidecar(meta: ModelSidecarInput, modelFormat: ModelFormat, hash: string): ModelSidecar {
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

async function fileExists(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    () => false
  )
}

/**
 * Load a model folder: check the sidecar and hash, load the tfjs model, then probe it (see `verifyModel`).
 * Without a sidecar on disk, `options.sidecar` must describe the model.
 */
export async function loadModel(location: string, options: LoadOptions = {}): Promise<LoadedModel> {
  const jsonPath = modelJsonPath(location)
  const { json } = await readModelJson(jsonPath)
  const format = detectModelFormat(json)
  const hash = await contentHash(location)

  let sidecar: ModelSidecar
  if (options.sidecar) {
    sidecar = completeSidecar(options.sidecar, format, hash)
  } else {
    if (!(await fileExists(sidecarPath(location)))) {
      throw new AppError('MODEL_FILE_INVALID', `No ${SIDECAR_FILE} next to ${jsonPath}: describe the model's classes, input and normalisation`, {
        path: sidecarPath(location)
      })
    }
    sidecar = await readSidecar(location)
    if (sidecar.contentHash !== hash) {
      throw new AppError('MODEL_FILE_INVALID', `Model files changed since ${SIDECAR_FILE} was written (content hash differs)`, {
        expected: sidecar.contentHash,
        actual: hash
      })
    }
    if (sidecar.modelFormat !== format) {
      throw new AppError('MODEL_FILE_INVALID', `${SIDECAR_FILE} says ${sidecar.modelFormat} but model.json holds a ${format}`)
    }
  }

  let model: tf.LayersModel | tf.GraphModel
  registerZooLayers()
  try {
    model = format === 'layers-model' ? await tf.loadLayersModel(fsHandler(jsonPath)) : await tf.loadGraphModel(fsHandler(jsonPath))
  } catch (err) {
    if (isAppError(err)) throw err
    throw new AppError('MODEL_FILE_INVALID', `TensorFlow.js could not load ${jsonPath}: ${(err as Error).message}`, { path: jsonPath })
  }

  try {
    const loaded = wrap(model, format, sidecar)
    await verifyModel(loaded, options.verify)
    return loaded
  } catch (err) {
    model.dispose()
    throw err
  }
}

function checkInputShape(shape: (number | null | undefined)[] | undefined, sidecar: ModelSidecar): void {
  if (!shape) return
  const { height, width, channels } = sidecar.input
  const want = [height, width, channels]
  if (shape.length !== 4 || shape.slice(1).some((d, i) => d != null && d >= 0 && d !== want[i])) {
    throw new AppError('MODEL_FILE_INVALID', `The model takes input ${JSON.stringify(shape)} but ${SIDECAR_FILE} says ${height}×${width}×${channels}`, {
      modelInput: shape,
      sidecarInput: sidecar.input
    })
  }
}

function wrap(model: tf.LayersModel | tf.GraphModel, format: ModelFormat, sidecar: ModelSidecar): LoadedModel {
  let predict: (x: tf.Tensor4D) => tf.Tensor4D
  if (model instanceof tf.GraphModel) {
    if (model.inputs.length !== 1) throw new AppError('MODEL_FILE_INVALID', `The graph has ${model.inputs.length} inputs; one image input is expected`)
    const input = model.inputs[0]
    checkInputShape(input.shape, sidecar)
    let outputName = sidecar.outputName
    if (outputName === undefined) {
      if (model.outputs.length !== 1) {
        throw new AppError('MODEL_FILE_INVALID', `The graph has ${model.outputs.length} outputs; name the probability map in outputName`, {
          outputs: model.outputs.map((o) => o.name)
        })
      }
      outputName = model.outputs[0].name
    }
    const name = outputName
    // execute (not predict) keeps the computation on the gradient tape and lets us pick the output node.
    predict = (x) => model.execute({ [input.name]: x }, name) as tf.Tensor4D
  } else {
    if (model.inputs.length !== 1 || model.outputs.length !== 1) {
      throw new AppError('MODEL_FILE_INVALID', `The model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; one of each is expected`)
    }
    checkInputShape(model.inputs[0].shape, sidecar)
    // apply runs the layers eagerly and differentiably; predict would batch and copy.
    predict = (x) => model.apply(x, { training: false }) as tf.Tensor4D
  }
  if (sidecar.output === 'logits') {
    // Saliency and the checks work on probabilities; a model that ends in logits gets its softmax here.
    const logits = predict
    predict = (x) => tf.softmax(logits(x)) as tf.Tensor4D
  }
  return { sidecar, format, model, predict, dispose: () => model.dispose() }
}

/** A fixed pseudo-random image spanning the model's input range: the same probe on every run and backend. */
export function probeInput(sidecar: ModelSidecar): tf.Tensor4D {
  const { height, width, channels } = sidecar.input
  const { min, max } = normalisationAffine(sidecar.normalisation, channels)
  const data = new Float32Array(height * width * channels)
  const u = uniform01(0x9e3779b9)
  for (let i = 0; i < data.length; i++) {
    const c = i % channels
    data[i] = min[c] + (max[c] - min[c]) * u()
  }
  return tf.tensor4d(data, [1, height, width, channels])
}

const PROB_TOLERANCE = 1e-4
const SUM_TOLERANCE = 1e-3

/**
 * Run the model on `probeInput` and check what saliency relies on: the output is [1,h,w,classes] at the input
 * resolution (MODEL_OUTPUT_MISMATCH), a per-pixel probability distribution (MODEL_NOT_PROBABILITIES), and a
 * gradient reaches the input (MODEL_NO_GRADIENT_PATH).
 */
export async function verifyModel(loaded: LoadedModel, options: VerifyOptions = {}): Promise<void> {
  const { shape = true, probabilities = true, gradient = true } = options
  if (!shape && !probabilities && !gradient) return
  const { sidecar } = loaded
  const { height, width } = sidecar.input
  const k = sidecar.classes.length
  const x = probeInput(sidecar)
  try {
    let y: tf.Tensor
    try {
      y = loaded.predict(x)
    } catch (err) {
      throw new AppError('MODEL_FILE_INVALID', `The model failed on a probe input: ${(err as Error).message}`)
    }
    try {
      if (shape && (y.rank !== 4 || y.shape[0] !== 1 || y.shape[1] !== height || y.shape[2] !== width || y.shape[3] !== k)) {
        throw new AppError('MODEL_OUTPUT_MISMATCH', `Output shape ${JSON.stringify(y.shape)} does not match [1, ${height}, ${width}, ${k}] (input size, ${k} classes)`, {
          outputShape: y.shape,
          expected: [1, height, width, k]
        })
      }
      if (probabilities) {
        const [lo, hi, sumErr] = tf.tidy(() => [
          y.min(),
          y.max(),
          y.sum(-1).sub(1).abs().max()
        ])
        const [minV, maxV, maxSumError] = [(await lo.data())[0], (await hi.data())[0], (await sumErr.data())[0]]
        tf.dispose([lo, hi, sumErr])
        const ok = minV >= -PROB_TOLERANCE && maxV <= 1 + PROB_TOLERANCE && maxSumError <= SUM_TOLERANCE
        if (!ok || [minV, maxV, maxSumError].some(Number.isNaN)) {
          throw new AppError(
            'MODEL_NOT_PROBABILITIES',
            `The output is not a probability map (values in [${minV.toPrecision(4)}, ${maxV.toPrecision(4)}], channel sums off by up to ${maxSumError.toPrecision(4)}); end the model with a softmax over classes`,
            { min: minV, max: maxV, maxSumError }
          )
        }
      }
    } finally {
      y.dispose()
    }
    if (gradient) await checkGradientPath(loaded, x)
  } finally {
    x.dispose()
  }
}

async function checkGradientPath(loaded: LoadedModel, x: tf.Tensor4D): Promise<void> {
  let maxAbs: number
  try {
    // valueAndGrad, because tf.grad leaks the value it differentiates.
    const { value, grad } = tf.valueAndGrad((input: tf.Tensor) => {
      const y = loaded.predict(input as tf.Tensor4D)
      // Fixed random weights over pixels and classes: a plain sum of softmax outputs is constant, with no gradient.
      return tf.sum(tf.mul(y, tf.randomUniform(y.shape, 0, 1, 'float32', 1234)))
    })(x)
    const m = tf.tidy(() => grad.abs().max())
    maxAbs = (await m.data())[0]
    tf.dispose([value, grad, m])
  } catch (err) {
    throw new AppError('MODEL_NO_GRADIENT_PATH', `No gradient could be computed from the output to the input: ${(err as Error).message}`, {
      cause: (err as Error).message
    })
  }
  if (!(maxAbs > 0)) {
    throw new AppError('MODEL_NO_GRADIENT_PATH', 'The gradient of the output with respect to the input is zero everywhere: the output does not depend on the image', {
      maxAbsGradient: maxAbs
    })
  }
}
