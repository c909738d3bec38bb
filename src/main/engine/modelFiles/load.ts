import { readFile } from 'node:fs/promises'
import * as tf from '@tensorflow/tfjs'
import { AppError, isAppError } from '@common/errors'
import { SIDECAR_FILE, type ModelFormat, type ModelSidecar, type ModelSidecarInput } from '@common/modelSidecar'
import { registerZooLayers } from '../models/index'
import { fsHandler, modelJsonPath, readModelJson } from './fsHandler'
import { completeSidecar, contentHash, detectModelFormat, readSidecar, sidecarPath } from './sidecar'
import { verifyModel, type LoadedModel, type VerifyOptions } from './verify'

export interface LoadOptions {
  /** Description for a model folder without ctxlens.model.json (an imported user model). */
  sidecar?: ModelSidecarInput
  verify?: VerifyOptions
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
