import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import type { ModelSpec } from '@common/modelSidecar'

type SymbolicTensor = tf.SymbolicTensor
type DepthwiseLayer = ReturnType<typeof tf.layers.depthwiseConv2d>
type DepthwiseCtor = new (args: Parameters<typeof tf.layers.depthwiseConv2d>[0]) => DepthwiseLayer

/** The fields of tfjs's DepthwiseConv2D that its typings declare private. */
interface DepthwiseInternals {
  depthwiseKernel: tf.LayerVariable
  bias: tf.LayerVariable | null
  useBias: boolean
  strides: [number, number]
  padding: 'valid' | 'same'
  dilationRate: [number, number]
  kernelSize: [number, number]
  depthMultiplier: number
  dataFormat: string
  activation: { apply(x: tf.Tensor): tf.Tensor } | null
}

// tfjs-layers does not export the class itself; its constructor is reachable through an instance.
const DepthwiseBase = tf.layers.depthwiseConv2d({ kernelSize: 1 }).constructor as DepthwiseCtor

/**
 * tfjs-layers' DepthwiseConv2D stores `dilationRate` (and serialises it) but silently convolves without it.
 * This subclass applies it. It is registered under the stock class name so that saved models stay in the
 * Keras format, and so that imported Keras models with dilated depthwise layers (DeepLab backbones) are computed
 * as Keras computes them; with dilation 1 it behaves exactly like the stock layer.
 */
export class DilatedDepthwiseConv2D extends DepthwiseBase {
  static className = 'DepthwiseConv2D'

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const self = this as unknown as DepthwiseInternals
      if (self.dataFormat === 'channelsFirst') throw new Error('DilatedDepthwiseConv2D supports channelsLast only')
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D
      let y: tf.Tensor = tf.depthwiseConv2d(x, self.depthwiseKernel.read() as tf.Tensor4D, self.strides, self.padding, 'NHWC', self.dilationRate)
      if (self.useBias && self.bias) y = tf.add(y, self.bias.read())
      if (self.activation) y = self.activation.apply(y)
      return y
    })
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const self = this as unknown as DepthwiseInternals
    if (self.dataFormat === 'channelsFirst') throw new Error('DilatedDepthwiseConv2D supports channelsLast only')
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape
    const out = (len: number | null, i: 0 | 1): number | null => {
      if (len == null) return null
      const k = self.kernelSize[i] + (self.kernelSize[i] - 1) * (self.dilationRate[i] - 1)
      const n = self.padding === 'same' ? len : len - k + 1
      return Math.floor((n + self.strides[i] - 1) / self.strides[i])
    }
    const c = shape[3]
    return [shape[0], out(shape[1], 0), out(shape[2], 1), c == null ? null : c * self.depthMultiplier]
  }
}

let registered = false
/**
 * Make tf.loadLayersModel build DepthwiseConv2D layers with working dilation. Registration is per JS realm:
 * every worker thread that deserialises zoo models (DeepLab's backbone is dilated) must call this first, or its
 * copy of the model silently computes without dilation.
 */
export function registerZooLayers(): void {
  if (registered) return
  tf.serialization.registerClass(DilatedDepthwiseConv2D as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>)
  registered = true
}
registerZooLayers()

/** Channel count under a width multiplier, rounded to a multiple of `divisor` (MobileNet's make_divisible). */
export function scaleChannels(channels: number, width: number, divisor = 1): number {
  const scaled = channels * width
  if (divisor <= 1) return Math.max(1, Math.round(scaled))
  let c = Math.max(divisor, Math.floor((scaled + divisor / 2) / divisor) * divisor)
  // Rounding down must not lose more than 10% of the channels.
  if (c < 0.9 * scaled) c += divisor
  return c
}

export function requireDivisible(spec: ModelSpec, factor: number, why: string): void {
  const [h, w] = spec.inputShape
  if (h % factor !== 0 || w % factor !== 0) {
    throw new AppError('INVALID_PARAMETERS', `${spec.architecture}: input ${h}×${w} must be divisible by ${factor} (${why})`, {
      inputShape: spec.inputShape,
      factor
    })
  }
}

/**
 * Layer factory for one model. Names and initialiser seeds come from counters in call order, so the same spec
 * builds the same graph with the same weights, whatever else was built before in the process.
 */
export class Builder {
  private seedCounter = 0
  private readonly names = new Map<string, number>()

  constructor(readonly spec: ModelSpec) {}

  private nextSeed(): number {
    // Keep seeds distinct across layers and across spec seeds without overflowing seedrandom's integer input.
    return (this.spec.seed * 100_003 + ++this.seedCounter) % 2_147_483_647
  }

  /** A unique, deterministic layer name. */
  name(base: string): string {
    const n = this.names.get(base) ?? 0
    this.names.set(base, n + 1)
    return n === 0 ? base : `${base}_${n}`
  }

  heNormal(): ReturnType<typeof tf.initializers.heNormal> {
    return tf.initializers.heNormal({ seed: this.nextSeed() })
  }

  ch(channels: number, divisor = 1): number {
    return scaleChannels(channels, this.spec.width, divisor)
  }

  input(): SymbolicTensor {
    return tf.input({ shape: [...this.spec.inputShape], name: 'image' })
  }

  conv(
    x: SymbolicTensor,
    filters: number,
    name: string,
    opts: { kernel?: number; stride?: number; dilation?: number; bias?: boolean } = {}
  ): SymbolicTensor {
    const kernel = opts.kernel ?? 3
    return tf.layers
      .conv2d({
        name: this.name(name),
        filters,
        kernelSize: kernel,
        strides: opts.stride ?? 1,
        dilationRate: opts.dilation ?? 1,
        padding: 'same',
        // A bias in front of batch norm is cancelled by its mean subtraction.
        useBias: opts.bias ?? !this.spec.batchNorm,
        kernelInitializer: this.heNormal()
      })
      .apply(x) as SymbolicTensor
  }

  depthwise(x: SymbolicTensor, name: string, opts: { stride?: number; dilation?: number } = {}): SymbolicTensor {
    const layer = new DilatedDepthwiseConv2D({
      name: this.name(name),
      kernelSize: 3,
      strides: opts.stride ?? 1,
      dilationRate: opts.dilation ?? 1,
      padding: 'same',
      useBias: !this.spec.batchNorm,
      depthwiseInitializer: this.heNormal()
    })
    return layer.apply(x) as SymbolicTensor
  }

  /** Batch norm when the spec asks for it; identity otherwise. */
  norm(x: SymbolicTensor, name: string): SymbolicTensor {
    if (!this.spec.batchNorm) return x
    // Momentum 0.9 matches PyTorch's default (0.1 there), so running statistics settle within a short training run.
    return tf.layers.batchNormalization({ name: this.name(name), momentum: 0.9, epsilon: 1e-5 }).apply(x) as SymbolicTensor
  }

  relu(x: SymbolicTensor, name: string, max?: number): SymbolicTensor {
    return tf.layers.reLU({ name: this.name(name), ...(max === undefined ? {} : { maxValue: max }) }).apply(x) as SymbolicTensor
  }

  convBnRelu(
    x: SymbolicTensor,
    filters: number,
    name: string,
    opts: { kernel?: number; stride?: number; dilation?: number; relu6?: boolean } = {}
  ): SymbolicTensor {
    const y = this.norm(this.conv(x, filters, `${name}_conv`, opts), `${name}_bn`)
    return this.relu(y, `${name}_relu`, opts.relu6 ? 6 : undefined)
  }

  /** Two 3×3 conv-BN-ReLU: the VGG / U-Net block. */
  doubleConv(x: SymbolicTensor, filters: number, name: string): SymbolicTensor {
    return this.convBnRelu(this.convBnRelu(x, filters, `${name}_a`), filters, `${name}_b`)
  }

  maxPool(x: SymbolicTensor, name: string): SymbolicTensor {
    return tf.layers.maxPooling2d({ name: this.name(name), poolSize: 2, strides: 2 }).apply(x) as SymbolicTensor
  }

  /**
   * Bilinear upsampling by an integer factor. tfjs resizes with alignCorners=false and halfPixelCenters=false
   * (its bilinear gradient kernel supports no other setting), so a trained model absorbs that fixed offset.
   */
  upsample(x: SymbolicTensor, factor: number | [number, number], name: string, interpolation: 'bilinear' | 'nearest' = 'bilinear'): SymbolicTensor {
    const size: [number, number] = typeof factor === 'number' ? [factor, factor] : factor
    return tf.layers.upSampling2d({ name: this.name(name), size, interpolation }).apply(x) as SymbolicTensor
  }

  /** Global average pooling kept as a 1×1 map, so 2-D layers can follow. */
  globalPool(x: SymbolicTensor, name: string): SymbolicTensor {
    const c = x.shape[3] as number
    const pooled = tf.layers.globalAveragePooling2d({ name: this.name(name) }).apply(x) as SymbolicTensor
    return tf.layers.reshape({ name: this.name(`${name}_reshape`), targetShape: [1, 1, c] }).apply(pooled) as SymbolicTensor
  }

  concat(xs: SymbolicTensor[], name: string): SymbolicTensor {
    return tf.layers.concatenate({ name: this.name(name), axis: -1 }).apply(xs) as SymbolicTensor
  }

  add(xs: SymbolicTensor[], name: string): SymbolicTensor {
    return tf.layers.add({ name: this.name(name) }).apply(xs) as SymbolicTensor
  }

  /** 1×1 classifier with bias, then a softmax over classes: the model's output is a probability map. */
  head(x: SymbolicTensor, upsampleFactor = 1): SymbolicTensor {
    let y = tf.layers
      .conv2d({
        name: this.name('classifier'),
        filters: this.spec.numClasses,
        kernelSize: 1,
        padding: 'same',
        useBias: true,
        kernelInitializer: tf.initializers.glorotUniform({ seed: this.nextSeed() })
      })
      .apply(x) as SymbolicTensor
    // Logits are upsampled before the softmax, as DeepLab does, so the output is an exact distribution per pixel.
    if (upsampleFactor > 1) y = this.upsample(y, upsampleFactor, 'logits_upsample')
    return tf.layers.softmax({ name: this.name('probabilities'), axis: -1 }).apply(y) as SymbolicTensor
  }

  model(input: SymbolicTensor, output: SymbolicTensor): tf.LayersModel {
    const s = this.spec
    return tf.model({ inputs: input, outputs: output, name: `${s.architecture.replace(/[^a-z0-9]+/g, '_')}` })
  }

  /** MobileNetV2 inverted residual: 1×1 expand, 3×3 depthwise, 1×1 linear projection, identity shortcut. */
  invertedResidual(
    x: SymbolicTensor,
    expansion: number,
    outChannels: number,
    name: string,
    opts: { stride?: number; dilation?: number } = {}
  ): SymbolicTensor {
    const inChannels = x.shape[3] as number
    const stride = opts.stride ?? 1
    let h = x
    if (expansion !== 1) {
      h = this.relu(this.norm(this.conv(h, Math.round(inChannels * expansion), `${name}_expand`, { kernel: 1 }), `${name}_expand_bn`), `${name}_expand_relu`, 6)
    }
    h = this.relu(this.norm(this.depthwise(h, `${name}_dw`, { stride, dilation: opts.dilation }), `${name}_dw_bn`), `${name}_dw_relu`, 6)
    h = this.norm(this.conv(h, outChannels, `${name}_project`, { kernel: 1 }), `${name}_project_bn`)
    return stride === 1 && inChannels === outChannels ? this.add([x, h], `${name}_add`) : h
  }
}

/** MobileNetV2's bottleneck table (t expansion, c channels, n repeats, s stride of the first repeat). */
export const MOBILENETV2_STAGES: { t: number; c: number; n: number; s: number }[] = [
  { t: 1, c: 16, n: 1, s: 1 },
  { t: 6, c: 24, n: 2, s: 2 },
  { t: 6, c: 32, n: 3, s: 2 },
  { t: 6, c: 64, n: 4, s: 2 },
  { t: 6, c: 96, n: 3, s: 1 },
  { t: 6, c: 160, n: 3, s: 2 },
  { t: 6, c: 320, n: 1, s: 1 }
]
