import { loadModel, type LoadOptions } from './modelFiles'
import type { OpenedSegmentationModel } from './segmentationModel'
import { fromLoadedModel } from './tfjsModel'

/**
 * The one place that picks a runtime for a model folder: everything above the engine (saliency, predictions,
 * audits) gets a SegmentationModel from here and never sees the runtime. Today every folder is a TensorFlow.js
 * model; a second runtime adds its file kind here and its implementation beside tfjsModel.ts.
 *
 * The model is verified on the way (class list, probability output, gradient path), so a model that cannot be
 * explained is refused with its specific code. The caller owns the result and disposes it.
 */
export async function openSegmentationModel(location: string, options: LoadOptions = {}): Promise<OpenedSegmentationModel> {
  return fromLoadedModel(await loadModel(location, options))
}
