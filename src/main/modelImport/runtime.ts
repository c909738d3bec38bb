import { AppError } from '@common/errors'
import type { ModelSidecar } from '@common/models'

/**
 * Where running a described ONNX model meets the engine. Description, checks (the probe runs on ONNX Runtime
 * directly), registration and listing work without it; prediction and saliency need the ONNX segmentation model
 * and its gradient graphs, which the engine's ONNX runtime provides. Until that is integrated this refuses with
 * a clear error instead of handing an .onnx path to the tfjs workers. tfjs models pass through untouched.
 */
export async function openSegmentationModel(location: string, sidecar: ModelSidecar): Promise<void> {
  if (sidecar.modelFormat !== 'onnx') return
  throw new AppError(
    'MODEL_RUNTIME_UNAVAILABLE',
    `ONNX execution not available yet: ${location} is described and registered, but prediction and saliency on ONNX Runtime are not integrated in this build`,
    { location }
  )
}
