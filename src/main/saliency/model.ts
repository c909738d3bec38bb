/**
 * Saliency sees a network only through the engine's runtime seam: plain arrays in and out, async, with the two
 * objectives it differentiates computed by the runtime. Re-exported here so saliency code and its callers
 * name one module; the definition (and its contract) is src/main/engine/segmentationModel.ts.
 */
export type {
  BatchGeometry,
  PerturbationStepArgs,
  PerturbationStepResult,
  ScoreGradientArgs,
  ScoreGradientResult,
  SegmentationModel
} from '../engine/segmentationModel'
