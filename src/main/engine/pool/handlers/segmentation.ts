import type { TaskHandler } from '../handler'
import { predictLabelMaps } from '../../segmentationModel'

export interface LabelsPayload {
  modelDir: string
  images: Float32Array
  shape: [number, number, number, number]
}

declare module '../protocol' {
  interface TaskMap {
    labels: { payload: LabelsPayload; result: Uint16Array; progress: never }
    probabilities: { payload: LabelsPayload; result: Float32Array; progress: never }
  }
}

/** Class ids per pixel of a registered model through the runtime seam (the image screen's labels, benchmarks). */
export const labels: TaskHandler<LabelsPayload, Uint16Array> = async (p, ctx) => {
  const model = await ctx.openModel(p.modelDir)
  return predictLabelMaps(model, p.images, p.shape)
}

/** Per-pixel class probabilities [n, H, W, K] of a registered model through the seam (audits of ONNX models). */
export const probabilities: TaskHandler<LabelsPayload, Float32Array> = async (p, ctx) => {
  const model = await ctx.openModel(p.modelDir)
  const [batch, height, width, channels] = p.shape
  return model.predict(p.images, { batch, height, width, channels })
}
