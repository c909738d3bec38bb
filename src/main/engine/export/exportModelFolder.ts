import * as tf from '@tensorflow/tfjs'
import { AppError, isAppError } from '@common/errors'
import { detectModelFormat, fsHandler, modelJsonPath } from '../modelFiles/index'
import { readModelJson } from '../modelFiles/fsHandler'
import { registerZooLayers } from '../models/index'
import { encodeModel } from '../onnx/ir'
import { layersModelToOnnx, type ExportOptions } from './layersToOnnx'

export interface FolderExport {
  bytes: Uint8Array
  inputName: string
  outputName: string
  nodes: number
  /** Op type → count, for the CLI's summary. */
  ops: Record<string, number>
}

/**
 * The ONNX bytes of the tfjs Layers model in a model folder (or model.json path). No sidecar is needed: the
 * export is a function of model.json and its weights alone, so exporting the same files gives the same bytes.
 */
export async function exportModelFolder(location: string, options: ExportOptions = {}): Promise<FolderExport> {
  const jsonPath = modelJsonPath(location)
  const { json } = await readModelJson(jsonPath)
  if (detectModelFormat(json) !== 'layers-model') {
    throw new AppError('MODEL_FILE_INVALID', `${jsonPath} holds a tfjs graph model; only Layers models can be exported to ONNX`, { path: jsonPath })
  }
  // DeepLab's dilated depthwise layers must deserialise as the zoo's layer, which applies the dilation.
  registerZooLayers()
  let model: tf.LayersModel
  try {
    model = await tf.loadLayersModel(fsHandler(jsonPath))
  } catch (err) {
    if (isAppError(err)) throw err
    throw new AppError('MODEL_FILE_INVALID', `TensorFlow.js could not load ${jsonPath}: ${(err as Error).message}`, { path: jsonPath })
  }
  try {
    const ir = layersModelToOnnx(model, options)
    const ops: Record<string, number> = {}
    for (const n of ir.graph.nodes) ops[n.opType] = (ops[n.opType] ?? 0) + 1
    return { bytes: encodeModel(ir), inputName: ir.graph.inputs[0].name, outputName: ir.graph.outputs[0].name, nodes: ir.graph.nodes.length, ops }
  } finally {
    model.dispose()
  }
}
