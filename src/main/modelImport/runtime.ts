import { AppError } from '@common/errors'
import type { ModelSidecar } from '@common/modelSidecar'

/**
 * Where a registered model meets the engine before work is queued for it: an ONNX model needs ONNX Runtime's
 * native binding (shipped inside onnxruntime-node), and a build without it should say so here, once, instead of
 * failing in every worker. tfjs models pass through; the workers open either kind through the engine's
 * openSegmentationModel.
 */
export async function requireModelRuntime(location: string, sidecar: ModelSidecar): Promise<void> {
  if (sidecar.modelFormat !== 'onnx') return
  try {
    await import('onnxruntime-node')
  } catch (err) {
    throw new AppError('MODEL_RUNTIME_UNAVAILABLE', `${location} needs ONNX Runtime, which does not load in this build: ${(err as Error).message}`, { location })
  }
}
