import * as tf from '@tensorflow/tfjs'
import { normalisationAffine } from '@common/models'
import type { SegmentationModel } from '../saliency/model'
import { compileInputGradientGraph } from './inference/inputGradientGraph'
import type { LoadedModel } from './modelFiles'

export interface PreparedModel extends SegmentationModel {
  /** Class id of each output channel (the sidecar's order). */
  classIds: number[]
  dispose(): void
}

/**
 * A loaded model as saliency sees it. Layers models run through the input-gradient graph (batch norms folded,
 * no filter gradients), which computes the same function faster; graph models run as they are.
 */
export function prepareForSaliency(loaded: LoadedModel): PreparedModel {
  const { input, normalisation, classes } = loaded.sidecar
  const { min, max } = normalisationAffine(normalisation, input.channels)
  const graph = loaded.format === 'layers-model' ? compileInputGradientGraph(loaded.model as tf.LayersModel) : null
  return {
    inputShape: [input.height, input.width, input.channels],
    numClasses: classes.length,
    inputRange: [Math.min(...min), Math.max(...max)],
    classIds: classes.map((c) => c.id),
    predict: graph ? (x) => graph.predict(x) : (x) => loaded.predict(x),
    dispose: () => graph?.dispose()
  }
}

/** Class ids per pixel for a batch of images [n, h, w, c]: argmax over the output, mapped through the sidecar. */
export function predictLabelMaps(model: PreparedModel, images: Float32Array, shape: [number, number, number, number]): Uint16Array {
  const argmax = tf.tidy(() => model.predict(tf.tensor4d(images, shape)).argMax(-1).dataSync())
  const labels = new Uint16Array(argmax.length)
  for (let i = 0; i < argmax.length; i++) labels[i] = model.classIds[argmax[i]]
  return labels
}
