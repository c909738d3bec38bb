import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import { ModelSpecSchema, type Architecture, type ModelSpec, type ModelSpecInput, type ModelStats } from '@common/modelSidecar'
import { buildDeeplabV3PlusMobilenetV2 } from './deeplabV3PlusMobilenetV2'
import { buildUnetMobilenetV2 } from './unetMobilenetV2'
import { buildUnetResnet18 } from './unetResnet18'
import { buildUnetVgg } from './unetVgg'

export { DilatedDepthwiseConv2D, registerZooLayers, scaleChannels } from './layers'
export { buildDeeplabV3PlusMobilenetV2, buildUnetMobilenetV2, buildUnetResnet18, buildUnetVgg }

const BUILDERS: Record<Architecture, (spec: ModelSpec) => tf.LayersModel> = {
  'unet-vgg': buildUnetVgg,
  'unet-resnet18': buildUnetResnet18,
  'unet-mobilenetv2': buildUnetMobilenetV2,
  'deeplabv3plus-mobilenetv2': buildDeeplabV3PlusMobilenetV2
}

/** Validate a spec and fill in its defaults; a bad spec is the caller's error, not an internal one. */
export function parseModelSpec(spec: ModelSpecInput): ModelSpec {
  const parsed = ModelSpecSchema.safeParse(spec)
  if (!parsed.success) {
    throw new AppError('INVALID_PARAMETERS', `Invalid model spec: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
      issues: parsed.error.issues
    })
  }
  return parsed.data
}

/**
 * Build a zoo model: input `[h, w, c]`, output per-pixel softmax probabilities `[h, w, numClasses]`.
 * Weights are a function of the spec alone (seeded per layer).
 */
export function buildModel(spec: ModelSpecInput): tf.LayersModel {
  const full = parseModelSpec(spec)
  return BUILDERS[full.architecture](full)
}

/** The benchmark network of the synthetic experiments: 4-level VGG U-Net, 16-32-64-128-128, batch norm. */
export const BENCHMARK_SPEC: ModelSpecInput = {
  architecture: 'unet-vgg',
  inputShape: [64, 64, 1],
  numClasses: 11,
  width: 1,
  levels: 4,
  batchNorm: true
}

const prod = (xs: (number | null)[]): number => xs.reduce<number>((a, v) => a * (v ?? 1), 1)

/**
 * Parameters and multiply-accumulates per image, from the layer configs and shapes. MACs count convolutions
 * (standard, depthwise, separable, transposed) and dense layers; normalisation, activations, pooling and resizing
 * are left out, as is customary.
 */
export function modelStats(model: tf.LayersModel): ModelStats {
  let macs = 0
  for (const layer of model.layers) {
    const cfg = layer.getConfig() as Record<string, unknown>
    const cls = layer.getClassName()
    if (!['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose', 'Dense'].includes(cls)) continue
    // tfjs layers expose no input shape of their own; a functional model's layer has exactly one input tensor.
    const inShape = (layer.input as tf.SymbolicTensor).shape
    const outShape = layer.outputShape as (number | null)[]
    const cin = inShape[inShape.length - 1] ?? 0
    if (cls === 'Dense') {
      macs += prod(inShape.slice(1, -1)) * cin * (cfg.units as number)
      continue
    }
    const [kh, kw] = cfg.kernelSize as [number, number]
    const outPixels = prod(outShape.slice(1, 3))
    switch (cls) {
      case 'Conv2D':
        macs += outPixels * kh * kw * cin * (cfg.filters as number)
        break
      case 'DepthwiseConv2D':
        macs += outPixels * kh * kw * cin * (cfg.depthMultiplier as number)
        break
      case 'SeparableConv2D': {
        // tfjs's SeparableConv2D leaves depthMultiplier out of its config; the depthwise kernel's shape has it.
        const dm = (cfg.depthMultiplier as number | undefined) ?? (layer.weights[0].shape[3] as number)
        macs += outPixels * (kh * kw * cin * dm + cin * dm * (cfg.filters as number))
        break
      }
      case 'Conv2DTranspose':
        // Every input pixel scatters one kernel's worth of products.
        macs += prod(inShape.slice(1, 3)) * kh * kw * cin * (cfg.filters as number)
        break
    }
  }
  const trainableParams = model.trainableWeights.reduce((a, w) => a + prod(w.shape), 0)
  return { params: model.countParams(), trainableParams, macs }
}
