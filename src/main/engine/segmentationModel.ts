/**
 * The runtime seam: what the rest of the app needs from a segmentation network, on plain arrays and behind
 * promises, so a runtime (TensorFlow.js today, see tfjsModel.ts; ONNX Runtime next) is one implementation of
 * this interface and one branch in openSegmentationModel (openModel.ts). Saliency depends on this module only.
 *
 * A runtime without gradients of its own (ONNX Runtime) computes a whole objective + gradient step in one call,
 * which is why the gradient entry points are the two saliency objectives rather than a generic "grad of f".
 * No tensor library is imported here, so importing this module never loads a runtime.
 *
 * Layouts are row-major NHWC throughout. Output spatial size equals input spatial size (the paper's
 * assumption); request masks are over that grid.
 */

export interface BatchGeometry {
  batch: number
  height: number
  width: number
  channels: number
}

export interface SegmentationModel {
  /** [height, width, channels]; height/width null for fully convolutional models that accept any size. */
  inputShape: [number | null, number | null, number]
  numClasses: number
  /** Pixel value range the model was trained on; perturbed images are clipped to it. */
  inputRange: [number, number]
  /** NHWC images [n,H,W,C] in model input units → NHWC per-pixel class probabilities [n,H,W,K]. */
  predict(images: Float32Array, geometry: BatchGeometry): Promise<Float32Array>
  /** One step of Eq. 2/3 for a batch: the loss terms per request and ∂(Σ_b loss_b)/∂masks. */
  perturbationStep(args: PerturbationStepArgs): Promise<PerturbationStepResult>
  /** S(x,R,c) per request and ∂(Σ_b S_b)/∂images (VG/IG/SG). */
  scoreGradient(args: ScoreGradientArgs): Promise<ScoreGradientResult>
  dispose(): void
}

/**
 * Inputs of Eq. 2/3 for a batch of B requests. With M↑ the masks upsampled bilinearly with half-pixel centres
 * (`interpolationMatrix`, rows then columns), p = images∘M↑ + start∘(1−M↑), clipped to `clip` when given;
 * f_c = Σ_k f(p)·classOneHot; per request, over R = requestMasks:
 *   preservation = Σ_R relu(originalProb − f_c) / ‖R‖₁,  maskL1 = Σ M (plain sum over cells, M ≥ 0),
 *   loss = λ·maskL1 + preservation,  score = Σ_R f_c / ‖R‖₁.
 * Request b's terms depend on row b only, so the gradient of the summed loss gives each mask its own gradient.
 */
export interface PerturbationStepArgs extends BatchGeometry {
  maskHeight: number
  maskWidth: number
  /** [B, h, w] */
  masks: Float32Array
  /** [B, H, W, C] */
  images: Float32Array
  /** [B, H, W, C]: the baseline (grid) or the image with its context removed (context): what M = 0 shows. */
  start: Float32Array
  /** [B, H, W], 0/1 */
  requestMasks: Float32Array
  /** [B, K] */
  classOneHot: Float32Array
  /** [B, H, W]: f_c(x) on the unperturbed images. */
  originalProb: Float32Array
  lambda: number
  clip: [number, number] | null
  /** false: the terms only (the final evaluation), no backward pass. */
  withGradient: boolean
}

export interface PerturbationStepResult {
  /** Each [B]. */
  loss: Float32Array
  preservation: Float32Array
  maskL1: Float32Array
  score: Float32Array
  /** [B, h, w]; present when asked for. */
  gradient?: Float32Array
}

export interface ScoreGradientArgs extends BatchGeometry {
  /** [B, H, W, C] */
  images: Float32Array
  /** [B, H, W], 0/1 */
  requestMasks: Float32Array
  /** [B, K] */
  classOneHot: Float32Array
}

export interface ScoreGradientResult {
  /** S(x,R,c) = Σ_R f_c(x) / ‖R‖₁ per request, [B]. */
  score: Float32Array
  /** ∂(Σ_b S_b)/∂images, [B, H, W, C]. */
  gradient: Float32Array
}

/** A model opened from a model folder: the interface plus what its sidecar says about the output channels. */
export interface OpenedSegmentationModel extends SegmentationModel {
  /** Which runtime runs it, for logs and the UI. */
  readonly runtime: string
  /** Class id of each output channel (the sidecar's order). */
  classIds: number[]
}

// The seam's upsampling weights live with the shared map code, so displayed maps use the same ones.
export { interpolationMatrix } from '@common/saliencyMap'

/** Class ids per pixel for a batch of images [n, h, w, c]: argmax over the output, mapped through the sidecar. */
export async function predictLabelMaps(model: OpenedSegmentationModel, images: Float32Array, shape: [number, number, number, number]): Promise<Uint16Array> {
  const [batch, height, width, channels] = shape
  const probs = await model.predict(images, { batch, height, width, channels })
  const k = model.numClasses
  const labels = new Uint16Array(batch * height * width)
  for (let p = 0; p < labels.length; p++) {
    let best = 0
    for (let c = 1; c < k; c++) if (probs[p * k + c] > probs[p * k + best]) best = c
    labels[p] = model.classIds[best]
  }
  return labels
}
