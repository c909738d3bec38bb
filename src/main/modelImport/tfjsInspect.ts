import { stat } from 'node:fs/promises'
import * as tf from '@tensorflow/tfjs'
import { AppError, isAppError } from '@common/errors'
import type { ModelInspection } from '@common/modelDescription'
import { contentHash, detectModelFormat, fsHandler, modelJsonPath } from '../engine/modelFiles'
import { readModelJson } from '../engine/modelFiles/fsHandler'
import { registerZooLayers } from '../engine/models/index'

const dims = (shape: (number | null | undefined)[] | undefined): (number | null)[] | null =>
  shape ? shape.map((d) => (d == null || d < 0 ? null : d)) : null

/**
 * A tfjs model folder as inspect reports it. tfjs models are NHWC throughout; the shapes come from loading the
 * model (Keras topologies nest them too deeply to read reliably), and "ops" are its layer classes or graph ops.
 */
export async function inspectTfjs(location: string): Promise<ModelInspection> {
  const jsonPath = modelJsonPath(location)
  const { json } = await readModelJson(jsonPath)
  const format = detectModelFormat(json)
  registerZooLayers()
  let model: tf.LayersModel | tf.GraphModel
  try {
    model = format === 'layers-model' ? await tf.loadLayersModel(fsHandler(jsonPath)) : await tf.loadGraphModel(fsHandler(jsonPath))
  } catch (err) {
    if (isAppError(err)) throw err
    throw new AppError('MODEL_FILE_INVALID', `TensorFlow.js could not load ${jsonPath}: ${(err as Error).message}`, { path: jsonPath })
  }
  try {
    const counts = new Map<string, number>()
    if (model instanceof tf.LayersModel) for (const l of model.layers) counts.set(l.getClassName(), (counts.get(l.getClassName()) ?? 0) + 1)
    else for (const n of (json.modelTopology as { node?: { op: string }[] }).node ?? []) counts.set(n.op, (counts.get(n.op) ?? 0) + 1)
    const input = model.inputs[0]
    const output = model.outputs[0]
    const inputShape = dims(input?.shape)
    const fixed = inputShape && inputShape.length === 4 && inputShape.slice(1).every((d) => d !== null) ? { height: inputShape[1]!, width: inputShape[2]!, channels: inputShape[3]! } : null
    return {
      path: jsonPath,
      runtime: 'tfjs',
      modelFormat: format,
      fileBytes: (await stat(jsonPath)).size,
      contentHash: await contentHash(location),
      inputName: input?.name ?? null,
      inputShape,
      outputName: output?.name ?? null,
      outputShape: dims(output?.shape),
      layout: 'NHWC',
      layoutSource: 'graph',
      fixedInput: fixed,
      opset: null,
      producer: json.generatedBy ?? json.convertedBy ?? null,
      ops: [...counts].map(([opType, count]) => ({ opType, count })).sort((a, b) => b.count - a.count || a.opType.localeCompare(b.opType)),
      described: false
    }
  } finally {
    model.dispose()
  }
}
