import { isOnnxPath } from '../modelImport'
import { loadModel, type LoadOptions } from './modelFiles'
import type { OpenedSegmentationModel } from './segmentationModel'
import { openDescribedOnnxModel } from './onnx/openOnnxModel'
import { fromLoadedModel } from './tfjsModel'

/**
 * The one place that picks a runtime for a model location: everything above the engine (saliency, predictions,
 * audits) gets a SegmentationModel from here and never sees the runtime. A folder is a TensorFlow.js model
 * (tfjsModel.ts); a described .onnx file runs on ONNX Runtime (onnx/onnxSegmentationModel.ts).
 *
 * The model is verified on the way (class list, probability output, gradient path), so a model that cannot be
 * explained is refused with its specific code. The caller owns the result and disposes it.
 */
export async function openSegmentationModel(location: string, options: LoadOptions = {}): Promise<OpenedSegmentationModel> {
  // An .onnx file runs on ONNX Runtime with the gradient graphs Context Lens builds (onnx/objectives.ts).
  if (isOnnxPath(location)) return openDescribedOnnxModel(location)
  return fromLoadedModel(await loadModel(location, options))
}
