import type * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import { float32Tensor, floatAttr, int64Tensor, intAttr, intsAttr, stringAttr, type IrAttribute, type IrModel, type IrNode, type IrTensor } from '../onnx/ir'
import { foldBatchNorm } from './foldBatchNorm'

/**
 * Writes a tfjs Layers model as an ONNX graph that computes the same function. The graph keeps tfjs's NHWC
 * input and output so callers feed it the same arrays; inside, 4-D tensors are NCHW because ONNX's Conv, Pool,
 * BatchNormalization and Resize are defined on that layout (and ONNX Runtime's fast kernels expect it).
 * Each value remembers its layout and is transposed only when a layer needs the other one, so a chain of
 * convolutions costs one Transpose at each end.
 */

export const EXPORT_OPSET = 13

export interface ExportOptions {
  /** Name of the symbolic batch dimension; null fixes the batch at 1. Default 'batch'. */
  batchDim?: string | null
  /** Graph name; default the model's name. */
  graphName?: string
}

type Layout = 'nchw' | 'nhwc' | 'plain'

/** A tfjs tensor as it exists in the ONNX graph: 4-D tensors in either layout, other ranks as they are. */
interface Value {
  name: string
  /** tfjs shape, batch first (null). */
  shape: (number | null)[]
  layout: Layout
}

/** Where tfjs's NHWC axis i lives in NCHW. */
const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1]

type Config = Record<string, unknown>

function pair(v: unknown, what: string, layer: string): [number, number] {
  if (typeof v === 'number') return [v, v]
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0], v[1]]
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'number') return [v[0], v[0]]
  throw unsupported(layer, `${what} ${JSON.stringify(v)} is not a number or a pair`)
}

function unsupported(layer: string, reason: string, className?: string): AppError {
  return new AppError('MODEL_FILE_INVALID', `Cannot export layer "${layer}"${className ? ` (${className})` : ''} to ONNX: ${reason}`, {
    layer,
    ...(className ? { className } : {})
  })
}

/**
 * tfjs 'same' padding along one axis: the total is split with the odd pixel at the end (TensorFlow's rule, which
 * ONNX calls SAME_UPPER); written as explicit pads because the input size is known.
 */
export function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const effective = (kernel - 1) * dilation + 1
  const out = Math.ceil(size / stride)
  const total = Math.max((out - 1) * stride + effective - size, 0)
  const before = Math.floor(total / 2)
  return [before, total - before]
}

class GraphWriter {
  readonly nodes: IrNode[] = []
  readonly initializers = new Map<string, IrTensor>()
  private readonly used = new Set<string>()
  private readonly transposed = new Map<string, string>()

  unique(base: string): string {
    let name = base
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`
    this.used.add(name)
    return name
  }

  reserve(name: string): void {
    this.used.add(name)
  }

  op(opType: string, inputs: string[], attributes: Record<string, IrAttribute>, name: string): string {
    const nodeName = this.unique(name)
    const output = this.unique(`${name}:0`)
    this.nodes.push({ name: nodeName, opType, domain: '', inputs, outputs: [output], attributes })
    return output
  }

  constant(name: string, t: IrTensor): string {
    const n = this.unique(name)
    this.initializers.set(n, t)
    return n
  }

  /** The value in NCHW (4-D only); transposes are cached so two consumers share one. */
  nchw(v: Value): string {
    if (v.layout !== 'nhwc') return v.name
    return this.transpose(v.name, [0, 3, 1, 2])
  }

  nhwc(v: Value): string {
    if (v.layout !== 'nchw') return v.name
    return this.transpose(v.name, [0, 2, 3, 1])
  }

  private transpose(name: string, perm: number[]): string {
    const key = `${name}|${perm.join(',')}`
    let out = this.transposed.get(key)
    if (!out) {
      out = this.op('Transpose', [name], { perm: intsAttr(perm) }, `${name.replace(/:0$/, '')}/transpose`)
      this.transposed.set(key, out)
    }
    return out
  }
}

/** tfjs weights as Float32Arrays, in the layer's own order (the order `build` created them). */
function weightsOf(layer: tf.layers.Layer): { data: Float32Array; shape: number[] }[] {
  return layer.getWeights().map((w) => ({ data: w.dataSync() as Float32Array, shape: w.shape }))
}

/** [kh, kw, in, out] (tfjs Conv2D) → [out, in, kh, kw] (ONNX Conv). */
function convKernel(w: { data: Float32Array; shape: number[] }): IrTensor {
  const [kh, kw, cin, cout] = w.shape
  const out = new Float32Array(w.data.length)
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = w.data[((y * kw + x) * cin + i) * cout + o]
  return { dataType: 'float32', dims: [cout, cin, kh, kw], data: out }
}

/** [kh, kw, c, m] (tfjs depthwise) → [c·m, 1, kh, kw]: output channel c·m + j is input channel c's j-th filter, as in tfjs. */
function depthwiseKernel(w: { data: Float32Array; shape: number[] }): IrTensor {
  const [kh, kw, c, m] = w.shape
  const out = new Float32Array(w.data.length)
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < c; i++) for (let j = 0; j < m; j++) out[((i * m + j) * kh + y) * kw + x] = w.data[((y * kw + x) * c + i) * m + j]
  return { dataType: 'float32', dims: [c * m, 1, kh, kw], data: out }
}

/** [kh, kw, out, in] (tfjs Conv2DTranspose) → [in, out, kh, kw] (ONNX ConvTranspose). */
function transposeKernel(w: { data: Float32Array; shape: number[] }): IrTensor {
  const [kh, kw, cout, cin] = w.shape
  const out = new Float32Array(w.data.length)
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let o = 0; o < cout; o++)
        for (let i = 0; i < cin; i++) out[((i * cout + o) * kh + y) * kw + x] = w.data[((y * kw + x) * cout + o) * cin + i]
  return { dataType: 'float32', dims: [cin, cout, kh, kw], data: out }
}

class LayerExporter {
  constructor(
    private readonly g: GraphWriter,
    private readonly layer: tf.layers.Layer
  ) {}

  private get name(): string {
    return this.layer.name
  }

  private get config(): Config {
    return this.layer.getConfig() as Config
  }

  private fail(reason: string): AppError {
    return unsupported(this.name, reason, this.layer.getClassName())
  }

  private requireChannelsLast(): void {
    const f = this.config.dataFormat
    if (f !== undefined && f !== 'channelsLast') throw this.fail(`dataFormat ${String(f)} (only channelsLast is exported)`)
  }

  private spatial(x: Value): [number, number] {
    const [, h, w] = x.shape
    if (x.shape.length !== 4 || h == null || w == null) throw this.fail(`needs a 4-D input with fixed height and width, got ${JSON.stringify(x.shape)}`)
    return [h, w]
  }

  private pads(x: Value, kernel: [number, number], strides: [number, number], dilation: [number, number]): number[] {
    const padding = this.config.padding
    if (padding === 'valid') return [0, 0, 0, 0]
    if (padding !== 'same') throw this.fail(`padding "${String(padding)}"`)
    const [h, w] = this.spatial(x)
    const [t, b] = samePads(h, kernel[0], strides[0], dilation[0])
    const [l, r] = samePads(w, kernel[1], strides[1], dilation[1])
    return [t, l, b, r]
  }

  /** Activation attached to a layer's config, or of an Activation layer. */
  activation(x: Value, activation: unknown, outShape: (number | null)[]): Value {
    const g = this.g
    const base = `${this.name}/${String(activation)}`
    const same = (name: string): Value => ({ name, shape: outShape, layout: x.layout })
    switch (activation) {
      case undefined:
      case null:
      case 'linear':
        return x
      case 'relu':
        return same(g.op('Relu', [x.name], {}, base))
      case 'relu6':
        return same(this.clip(x.name, 0, 6, base))
      case 'sigmoid':
        return same(g.op('Sigmoid', [x.name], {}, base))
      case 'tanh':
        return same(g.op('Tanh', [x.name], {}, base))
      case 'elu':
        return same(g.op('Elu', [x.name], { alpha: floatAttr(1) }, base))
      case 'selu':
        return same(g.op('Selu', [x.name], {}, base))
      case 'softplus':
        return same(g.op('Softplus', [x.name], {}, base))
      case 'softsign':
        return same(g.op('Softsign', [x.name], {}, base))
      case 'hardSigmoid':
        // tfjs: clip(0.2x + 0.5, 0, 1), which is ONNX's default HardSigmoid.
        return same(g.op('HardSigmoid', [x.name], { alpha: floatAttr(0.2), beta: floatAttr(0.5) }, base))
      case 'swish': {
        const s = g.op('Sigmoid', [x.name], {}, `${base}/sigmoid`)
        return same(g.op('Mul', [x.name, s], {}, base))
      }
      case 'softmax':
        return this.softmax(x, -1, outShape, base)
      default:
        throw this.fail(`activation "${String(activation)}"`)
    }
  }

  private clip(input: string, min: number, max: number, name: string): string {
    const lo = this.g.constant(`${name}/min`, float32Tensor([min], []))
    const hi = this.g.constant(`${name}/max`, float32Tensor([max], []))
    return this.g.op('Clip', [input, lo, hi], {}, name)
  }

  private axisIn(x: Value, axis: number): number {
    const rank = x.shape.length
    const a = axis < 0 ? axis + rank : axis
    if (a <= 0 || a >= rank) throw this.fail(`axis ${axis} of a rank-${rank} tensor`)
    return x.layout === 'nchw' ? NHWC_TO_NCHW_AXIS[a] : a
  }

  /**
   * A softmax over an image's channels runs in NHWC: ONNX Runtime transposes internally for any axis but the
   * last, so this costs nothing extra, and where the softmax is the output (the zoo's heads) it saves the
   * transpose of the probabilities (about 15% of the benchmark U-Net's CPU time at batch 16).
   */
  private softmax(x: Value, axis: number, outShape: (number | null)[], name: string): Value {
    const v: Value = x.shape.length === 4 ? { ...x, name: this.g.nhwc(x), layout: 'nhwc' } : x
    return { name: this.g.op('Softmax', [v.name], { axis: intAttr(this.axisIn(v, axis)) }, name), shape: outShape, layout: v.layout }
  }

  /** Brings a 4-D input to NCHW; inputs of other ranks are refused by layers that need images. */
  private image(x: Value): Value {
    this.spatial(x)
    return { ...x, name: this.g.nchw(x), layout: 'nchw' }
  }

  export(inputs: Value[], outShape: (number | null)[]): Value {
    const g = this.g
    const cls = this.layer.getClassName()
    const cfg = this.config
    const x = inputs[0]
    const one = (): void => {
      if (inputs.length !== 1) throw this.fail(`${inputs.length} inputs`)
    }
    const out = (name: string, layout: Layout): Value => ({ name, shape: outShape, layout })
    switch (cls) {
      case 'Conv2D': {
        one()
        this.requireChannelsLast()
        const kernel = pair(cfg.kernelSize, 'kernelSize', this.name)
        const strides = pair(cfg.strides ?? 1, 'strides', this.name)
        const dilation = pair(cfg.dilationRate ?? 1, 'dilationRate', this.name)
        const [w, b] = weightsOf(this.layer)
        const xi = this.image(x)
        const ins = [xi.name, g.constant(`${this.name}/kernel`, convKernel(w))]
        if (cfg.useBias !== false && b) ins.push(g.constant(`${this.name}/bias`, float32Tensor(b.data, [b.data.length])))
        const y = g.op(
          'Conv',
          ins,
          {
            kernel_shape: intsAttr(kernel),
            strides: intsAttr(strides),
            dilations: intsAttr(dilation),
            pads: intsAttr(this.pads(x, kernel, strides, dilation)),
            group: intAttr(1)
          },
          this.name
        )
        return this.activation(out(y, 'nchw'), cfg.activation, outShape)
      }
      case 'DepthwiseConv2D': {
        one()
        this.requireChannelsLast()
        const kernel = pair(cfg.kernelSize, 'kernelSize', this.name)
        const strides = pair(cfg.strides ?? 1, 'strides', this.name)
        const dilation = pair(cfg.dilationRate ?? 1, 'dilationRate', this.name)
        const [w, b] = weightsOf(this.layer)
        const xi = this.image(x)
        const ins = [xi.name, g.constant(`${this.name}/depthwise_kernel`, depthwiseKernel(w))]
        if (cfg.useBias !== false && b) ins.push(g.constant(`${this.name}/bias`, float32Tensor(b.data, [b.data.length])))
        const y = g.op(
          'Conv',
          ins,
          {
            kernel_shape: intsAttr(kernel),
            strides: intsAttr(strides),
            dilations: intsAttr(dilation),
            pads: intsAttr(this.pads(x, kernel, strides, dilation)),
            group: intAttr(w.shape[2])
          },
          this.name
        )
        return this.activation(out(y, 'nchw'), cfg.activation, outShape)
      }
      case 'SeparableConv2D': {
        one()
        this.requireChannelsLast()
        const kernel = pair(cfg.kernelSize, 'kernelSize', this.name)
        const strides = pair(cfg.strides ?? 1, 'strides', this.name)
        const dilation = pair(cfg.dilationRate ?? 1, 'dilationRate', this.name)
        const [dw, pw, b] = weightsOf(this.layer)
        const xi = this.image(x)
        const mid = g.op(
          'Conv',
          [xi.name, g.constant(`${this.name}/depthwise_kernel`, depthwiseKernel(dw))],
          {
            kernel_shape: intsAttr(kernel),
            strides: intsAttr(strides),
            dilations: intsAttr(dilation),
            pads: intsAttr(this.pads(x, kernel, strides, dilation)),
            group: intAttr(dw.shape[2])
          },
          `${this.name}/depthwise`
        )
        const ins = [mid, g.constant(`${this.name}/pointwise_kernel`, convKernel(pw))]
        if (cfg.useBias !== false && b) ins.push(g.constant(`${this.name}/bias`, float32Tensor(b.data, [b.data.length])))
        const y = g.op('Conv', ins, { kernel_shape: intsAttr([1, 1]), group: intAttr(1) }, this.name)
        return this.activation(out(y, 'nchw'), cfg.activation, outShape)
      }
      case 'Conv2DTranspose': {
        one()
        this.requireChannelsLast()
        const kernel = pair(cfg.kernelSize, 'kernelSize', this.name)
        const strides = pair(cfg.strides ?? 1, 'strides', this.name)
        const dilation = pair(cfg.dilationRate ?? 1, 'dilationRate', this.name)
        if (dilation[0] !== 1 || dilation[1] !== 1) throw this.fail('dilated transposed convolution')
        const [h, w] = this.spatial(x)
        const [oh, ow] = [outShape[1], outShape[2]]
        if (oh == null || ow == null) throw this.fail('output size is not fixed')
        // ConvTranspose's full output is (in-1)·s + k; tfjs crops it to its output size with the conv's SAME
        // split (odd pixel at the end), or extends it with zeros when the kernel is smaller than the stride.
        const pads = [0, 0, 0, 0]
        const extra = [0, 0]
        ;[
          [h, oh],
          [w, ow]
        ].forEach(([n, o], i) => {
          const total = (n - 1) * strides[i] + kernel[i] - o
          if (total >= 0) {
            pads[i] = Math.floor(total / 2)
            pads[i + 2] = total - pads[i]
          } else extra[i] = -total
        })
        const [k, b] = weightsOf(this.layer)
        const xi = this.image(x)
        const ins = [xi.name, g.constant(`${this.name}/kernel`, transposeKernel(k))]
        if (cfg.useBias !== false && b) ins.push(g.constant(`${this.name}/bias`, float32Tensor(b.data, [b.data.length])))
        const y = g.op(
          'ConvTranspose',
          ins,
          { kernel_shape: intsAttr(kernel), strides: intsAttr(strides), pads: intsAttr(pads), output_padding: intsAttr(extra), group: intAttr(1) },
          this.name
        )
        return this.activation(out(y, 'nchw'), cfg.activation, outShape)
      }
      case 'Dense': {
        one()
        const [w, b] = weightsOf(this.layer)
        const [cin, cout] = w.shape
        if (x.shape.length === 4) {
          // On an image a dense layer is a 1×1 convolution, which keeps the value in NCHW (and folds with BN).
          const xi = this.image(x)
          const ins = [xi.name, g.constant(`${this.name}/kernel`, convKernel({ data: w.data, shape: [1, 1, cin, cout] }))]
          if (cfg.useBias !== false && b) ins.push(g.constant(`${this.name}/bias`, float32Tensor(b.data, [cout])))
          const y = g.op('Conv', ins, { kernel_shape: intsAttr([1, 1]), group: intAttr(1) }, this.name)
          return this.activation(out(y, 'nchw'), cfg.activation, outShape)
        }
        let y = g.op('MatMul', [x.name, g.constant(`${this.name}/kernel`, float32Tensor(w.data, [cin, cout]))], {}, this.name)
        if (cfg.useBias !== false && b) y = g.op('Add', [y, g.constant(`${this.name}/bias`, float32Tensor(b.data, [cout]))], {}, `${this.name}/bias_add`)
        return this.activation(out(y, 'plain'), cfg.activation, outShape)
      }
      case 'BatchNormalization': {
        one()
        const rank = x.shape.length
        const axes = Array.isArray(cfg.axis) ? (cfg.axis as number[]) : [cfg.axis as number]
        if (axes.length !== 1 || (axes[0] !== -1 && axes[0] !== rank - 1)) throw this.fail(`normalises axis ${JSON.stringify(cfg.axis)}; only the channel axis is exported`)
        const ws = weightsOf(this.layer)
        const c = x.shape[rank - 1] as number
        let i = 0
        const gamma = cfg.scale !== false ? ws[i++].data : new Float32Array(c).fill(1)
        const beta = cfg.center !== false ? ws[i++].data : new Float32Array(c)
        const [mean, variance] = [ws[i].data, ws[i + 1].data]
        const input = rank === 4 ? this.image(x).name : x.name
        const y = g.op(
          'BatchNormalization',
          [
            input,
            g.constant(`${this.name}/gamma`, float32Tensor(gamma, [c])),
            g.constant(`${this.name}/beta`, float32Tensor(beta, [c])),
            g.constant(`${this.name}/moving_mean`, float32Tensor(mean, [c])),
            g.constant(`${this.name}/moving_variance`, float32Tensor(variance, [c]))
          ],
          { epsilon: floatAttr(cfg.epsilon as number) },
          this.name
        )
        return out(y, rank === 4 ? 'nchw' : 'plain')
      }
      case 'Activation':
        one()
        return this.activation(x, cfg.activation, outShape)
      case 'ReLU': {
        one()
        const max = cfg.maxValue as number | null | undefined
        if (max == null) return out(g.op('Relu', [x.name], {}, this.name), x.layout)
        return out(this.clip(x.name, 0, max, this.name), x.layout)
      }
      case 'LeakyReLU':
        one()
        return out(g.op('LeakyRelu', [x.name], { alpha: floatAttr((cfg.alpha as number | undefined) ?? 0.3) }, this.name), x.layout)
      case 'ELU':
        one()
        return out(g.op('Elu', [x.name], { alpha: floatAttr((cfg.alpha as number | undefined) ?? 1) }, this.name), x.layout)
      case 'Softmax': {
        one()
        const axis = Array.isArray(cfg.axis) ? (cfg.axis as number[]) : [(cfg.axis as number | undefined) ?? -1]
        if (axes1(axis)) return this.softmax(x, axis[0], outShape, this.name)
        throw this.fail(`softmax over axes ${JSON.stringify(cfg.axis)}`)
      }
      case 'Dropout':
      case 'SpatialDropout1D':
      case 'SpatialDropout2D':
      case 'GaussianNoise':
      case 'GaussianDropout':
      case 'AlphaDropout':
        // Identities at inference.
        one()
        return x
      case 'Add':
      case 'Multiply':
      case 'Average':
      case 'Maximum':
      case 'Minimum': {
        if (inputs.some((v) => v.shape.length !== x.shape.length)) throw this.fail('inputs of different ranks')
        // Elementwise ops commute with the transpose: bring every input to one layout, NCHW when any is.
        const layout: Layout = inputs.some((v) => v.layout === 'nchw') ? 'nchw' : x.layout
        const names = inputs.map((v) => (layout === 'nchw' ? g.nchw(v) : g.nhwc(v)))
        const binary = { Add: 'Add', Multiply: 'Mul', Maximum: 'Max', Minimum: 'Min', Average: 'Mean' }[cls] as string
        const variadic = { Add: 'Sum', Multiply: null, Maximum: 'Max', Minimum: 'Min', Average: 'Mean' }[cls]
        if (names.length === 2 || variadic) return out(g.op(names.length === 2 ? binary : (variadic as string), names, {}, this.name), layout)
        let acc = names[0]
        for (let i = 1; i < names.length; i++) acc = g.op('Mul', [acc, names[i]], {}, this.name)
        return out(acc, layout)
      }
      case 'Concatenate': {
        if (inputs.some((v) => v.shape.length !== x.shape.length)) throw this.fail('inputs of different ranks')
        const layout: Layout = inputs.some((v) => v.layout === 'nchw') ? 'nchw' : x.layout
        const names = inputs.map((v) => (layout === 'nchw' ? g.nchw(v) : g.nhwc(v)))
        const axis = this.axisIn({ ...x, layout }, (cfg.axis as number | undefined) ?? -1)
        return out(g.op('Concat', names, { axis: intAttr(axis) }, this.name), layout)
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        one()
        this.requireChannelsLast()
        const kernel = pair(cfg.poolSize, 'poolSize', this.name)
        const strides = pair(cfg.strides ?? cfg.poolSize, 'strides', this.name)
        const xi = this.image(x)
        const attrs: Record<string, IrAttribute> = {
          kernel_shape: intsAttr(kernel),
          strides: intsAttr(strides),
          pads: intsAttr(this.pads(x, kernel, strides, [1, 1]))
        }
        // tfjs averages over the window's pixels inside the image only.
        if (cls === 'AveragePooling2D') attrs.count_include_pad = intAttr(0)
        return out(g.op(cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [xi.name], attrs, this.name), 'nchw')
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        one()
        this.requireChannelsLast()
        const xi = this.image(x)
        const keep = cfg.keepDims === true
        const y = g.op(cls === 'GlobalAveragePooling2D' ? 'ReduceMean' : 'ReduceMax', [xi.name], { axes: intsAttr([2, 3]), keepdims: intAttr(keep ? 1 : 0) }, this.name)
        return out(y, keep ? 'nchw' : 'plain')
      }
      case 'UpSampling2D': {
        one()
        this.requireChannelsLast()
        const [sh, sw] = pair(cfg.size, 'size', this.name)
        const interpolation = (cfg.interpolation as string | undefined) ?? 'nearest'
        if (interpolation !== 'nearest' && interpolation !== 'bilinear') throw this.fail(`interpolation "${interpolation}"`)
        const xi = this.image(x)
        const scales = g.constant(`${this.name}/scales`, float32Tensor([1, 1, sh, sw], [4]))
        // tfjs resizes with alignCorners and halfPixelCenters both false: source = destination / scale, which is
        // ONNX's 'asymmetric' transform; nearest takes the floor of it, as tfjs does.
        const attrs: Record<string, IrAttribute> = {
          mode: stringAttr(interpolation === 'nearest' ? 'nearest' : 'linear'),
          coordinate_transformation_mode: stringAttr('asymmetric')
        }
        if (interpolation === 'nearest') attrs.nearest_mode = stringAttr('floor')
        return out(g.op('Resize', [xi.name, '', scales], attrs, this.name), 'nchw')
      }
      case 'ZeroPadding2D': {
        one()
        this.requireChannelsLast()
        const [tb, lr] = edgePairs(cfg.padding, 'padding', this.name)
        const xi = this.image(x)
        const pads = g.constant(`${this.name}/pads`, int64Tensor([0, 0, tb[0], lr[0], 0, 0, tb[1], lr[1]]))
        return out(g.op('Pad', [xi.name, pads], { mode: stringAttr('constant') }, this.name), 'nchw')
      }
      case 'Cropping2D': {
        one()
        this.requireChannelsLast()
        const [tb, lr] = edgePairs(cfg.cropping, 'cropping', this.name)
        const [h, w] = this.spatial(x)
        const xi = this.image(x)
        const starts = g.constant(`${this.name}/starts`, int64Tensor([tb[0], lr[0]]))
        const ends = g.constant(`${this.name}/ends`, int64Tensor([h - tb[1], w - lr[1]]))
        const axes = g.constant(`${this.name}/axes`, int64Tensor([2, 3]))
        return out(g.op('Slice', [xi.name, starts, ends, axes], {}, this.name), 'nchw')
      }
      case 'Reshape': {
        one()
        const target = cfg.targetShape as number[]
        if (x.shape.length === 2 && target.length === 3 && target[0] === 1 && target[1] === 1) {
          // [n, c] → [n, 1, 1, c] is [n, c, 1, 1] in NCHW: no data moves.
          const axes = g.constant(`${this.name}/axes`, int64Tensor([2, 3]))
          return out(g.op('Unsqueeze', [x.name, axes], {}, this.name), 'nchw')
        }
        // Reshape follows tfjs's element order, so a 4-D input goes back to NHWC first; 0 keeps the batch.
        const shape = g.constant(`${this.name}/shape`, int64Tensor([0, ...target]))
        return out(g.op('Reshape', [g.nhwc(x), shape], {}, this.name), outShape.length === 4 ? 'nhwc' : 'plain')
      }
      case 'Flatten': {
        one()
        return out(g.op('Flatten', [g.nhwc(x)], { axis: intAttr(1) }, this.name), 'plain')
      }
      default:
        throw this.fail('this layer type is not supported by the ONNX exporter')
    }
  }
}

/** Keras's padding/cropping forms: n, [rows, cols] (symmetric) or [[top, bottom], [left, right]]. */
function edgePairs(v: unknown, what: string, layer: string): [[number, number], [number, number]] {
  if (Array.isArray(v) && v.length === 2 && Array.isArray(v[0])) return [pair(v[0], what, layer), pair(v[1], what, layer)]
  const [rows, cols] = pair(v, what, layer)
  return [
    [rows, rows],
    [cols, cols]
  ]
}

function axes1(axis: number[]): boolean {
  return axis.length === 1 && typeof axis[0] === 'number'
}

/** The subset of tfjs-layers' Node that the exporter walks. */
interface LayerNode {
  inputTensors: tf.SymbolicTensor[]
  outputTensors: tf.SymbolicTensor[]
}

/**
 * Convert a tfjs Layers model with one image input and one output. Batch-norm layers that directly follow a
 * convolution are folded into its weights; any layer the exporter does not know is an AppError naming it.
 */
export function layersModelToOnnx(model: tf.LayersModel, options: ExportOptions = {}): IrModel {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new AppError('MODEL_FILE_INVALID', `Cannot export model "${model.name}" to ONNX: it has ${model.inputs.length} inputs and ${model.outputs.length} outputs; one of each is expected`)
  }
  const batch = options.batchDim === undefined ? 'batch' : options.batchDim
  const g = new GraphWriter()
  const inputTensor = model.inputs[0]
  // Through the tensors' layers rather than model.inputLayers, which a Sequential model leaves unset.
  const inputName = inputTensor.sourceLayer.name
  g.reserve(inputName)
  const values = new Map<number, Value>()
  values.set(inputTensor.id, { name: inputName, shape: inputTensor.shape, layout: inputTensor.shape.length === 4 ? 'nhwc' : 'plain' })

  // Layers come in topological order; a node whose inputs are not all known belongs to another model (shared layers).
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue
    const nodes = (layer as unknown as { inboundNodes: LayerNode[] }).inboundNodes
    let exported = false
    for (const node of nodes) {
      const ins = node.inputTensors.map((t) => values.get(t.id))
      if (ins.some((v) => v === undefined)) continue
      if ('layers' in layer) throw unsupported(layer.name, 'nested models are not supported; flatten the model first', layer.getClassName())
      if (node.outputTensors.length !== 1) throw unsupported(layer.name, `${node.outputTensors.length} outputs`, layer.getClassName())
      const y = new LayerExporter(g, layer).export(ins as Value[], node.outputTensors[0].shape)
      values.set(node.outputTensors[0].id, y)
      exported = true
    }
    if (!exported && nodes.length > 0) throw unsupported(layer.name, 'its inputs were not computed before it (graph order)', layer.getClassName())
  }

  const outputTensor = model.outputs[0]
  const last = values.get(outputTensor.id)
  if (!last) throw new AppError('MODEL_FILE_INVALID', `Cannot export model "${model.name}" to ONNX: its output was not reached from its input`)
  const outputLayerName = model.outputs[0].sourceLayer.name
  const outputName = outputLayerName === inputName ? `${inputName}_out` : outputLayerName
  // The output keeps tfjs's layout; the last producer is renamed so the graph output carries the layer's name.
  const finalValue = last.layout === 'nchw' ? g.nhwc(last) : last.name
  if (finalValue === inputName) {
    g.nodes.push({ name: g.unique(`${outputName}/identity`), opType: 'Identity', domain: '', inputs: [inputName], outputs: [outputName], attributes: {} })
  } else {
    for (const n of g.nodes) {
      n.outputs = n.outputs.map((o) => (o === finalValue ? outputName : o))
      n.inputs = n.inputs.map((i) => (i === finalValue ? outputName : i))
    }
  }

  // tfjs can report NaN for a size it failed to infer; unknown is what that means.
  const dims = (shape: (number | null)[]): (number | string | null)[] => shape.map((d, i) => (i === 0 ? batch ?? 1 : d != null && Number.isFinite(d) ? d : null))
  const graph = {
    name: options.graphName ?? model.name,
    nodes: g.nodes,
    inputs: [{ name: inputName, dataType: 'float32' as const, shape: dims(inputTensor.shape) }],
    outputs: [{ name: outputName, dataType: 'float32' as const, shape: dims(outputTensor.shape) }],
    initializers: g.initializers
  }
  foldBatchNorm(graph)
  return { graph, opset: EXPORT_OPSET, otherOpsets: [], irVersion: 8, producer: 'context-lens' }
}
