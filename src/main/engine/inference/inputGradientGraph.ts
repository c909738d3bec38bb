import * as tf from '@tensorflow/tfjs'

/**
 * A Layers model re-expressed for fast gradients with respect to its INPUT, which is all saliency needs.
 *
 * tfjs's Conv2D layer runs a fused convolution whose custom gradient always computes the filter and bias
 * gradients too, and its inference-mode batch norm differentiates through broadcasts (Tile). Here every
 * convolution that feeds only a batch norm absorbs it (W' = W·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε) + b·γ/√(σ²+ε)),
 * and convolutions run as plain ops, so backpropagation only follows the path to the input. Every other layer
 * runs through its own `apply` with training off, so the result is the model's, up to float rounding.
 */
export interface InputGradientGraph {
  predict(x: tf.Tensor4D): tf.Tensor4D
  dispose(): void
  /** How many batch norms and ReLUs were folded into the convolution before them. */
  foldedLayers: number
}

type Layer = tf.layers.Layer
interface ConvLike extends Layer {
  kernel?: { read(): tf.Tensor }
  depthwiseKernel?: { read(): tf.Tensor }
  bias?: { read(): tf.Tensor } | null
  useBias: boolean
  strides: number[]
  padding: 'same' | 'valid'
  dilationRate: number[] | number
  activation: { apply(x: tf.Tensor): tf.Tensor; getClassName(): string }
}
interface BatchNormLike extends Layer {
  gamma: { read(): tf.Tensor } | null
  beta: { read(): tf.Tensor } | null
  movingMean: { read(): tf.Tensor }
  movingVariance: { read(): tf.Tensor }
  epsilon: number
  axis: number | number[]
}

interface PreparedConv {
  kind: 'conv' | 'depthwise'
  kernel: tf.Tensor4D
  bias: tf.Tensor1D | null
  strides: [number, number]
  padding: 'same' | 'valid'
  dilations: [number, number]
  activation: ConvLike['activation'] | null
  /** A ReLU (or ReLU6) layer after the convolution (and its folded batch norm), applied here. */
  relu: 'relu' | 'relu6' | null
  /**
   * The kernel of the convolution's input gradient (spatially flipped; in/out swapped for a full convolution),
   * computed once; set when that gradient is a plain 'same' convolution (stride 1, odd kernel).
   */
  gradKernel: tf.Tensor4D | null
  /**
   * Set when the input is a channel concatenation made only for this convolution: the kernel split by input
   * channels, so conv(concat(a, b)) runs as conv(a, Ka) + conv(b, Kb) and no concat/split is ever materialised.
   */
  parts: { kernel: tf.Tensor4D; gradKernel: tf.Tensor4D }[] | null
}

const pair = (v: number | number[]): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v])

function isConv(layer: Layer): boolean {
  return layer.getClassName() === 'Conv2D' || layer.getClassName() === 'DepthwiseConv2D'
}

function isLastAxisBatchNorm(layer: Layer): layer is BatchNormLike {
  if (layer.getClassName() !== 'BatchNormalization') return false
  const axis = (layer as BatchNormLike).axis
  const a = Array.isArray(axis) ? axis : [axis]
  return a.length === 1 && (a[0] === -1 || a[0] === 3)
}

/** Scale and shift of an inference-mode batch norm: y = x·a + b. */
function batchNormAffine(bn: BatchNormLike): { a: tf.Tensor1D; b: tf.Tensor1D } {
  return tf.tidy(() => {
    const mean = bn.movingMean.read() as tf.Tensor1D
    const variance = bn.movingVariance.read() as tf.Tensor1D
    const gamma = bn.gamma ? (bn.gamma.read() as tf.Tensor1D) : tf.onesLike(mean)
    const beta = bn.beta ? (bn.beta.read() as tf.Tensor1D) : tf.zerosLike(mean)
    const a = gamma.div(variance.add(bn.epsilon).sqrt()) as tf.Tensor1D
    return { a, b: beta.sub(mean.mul(a)) as tf.Tensor1D }
  })
}

/** ReLU layers the graph can apply inside a convolution: plain ReLU and ReLU6 (MobileNetV2). */
function reluKind(layer: Layer): 'relu' | 'relu6' | null {
  const name = layer.getClassName()
  if (name === 'ReLU') {
    const max = (layer as Layer & { maxValue?: number | null }).maxValue
    return max == null ? 'relu' : max === 6 ? 'relu6' : null
  }
  if (name === 'Activation') {
    const act = (layer as Layer & { activation: { getClassName(): string } }).activation.getClassName().toLowerCase()
    return act === 'relu' ? 'relu' : act === 'relu6' ? 'relu6' : null
  }
  return null
}

function prepareConv(layer: ConvLike, bn: BatchNormLike | null, relu: 'relu' | 'relu6' | null, concatChannels: number[] | null): PreparedConv {
  const depthwise = layer.getClassName() === 'DepthwiseConv2D'
  const { kernel, bias } = tf.tidy(() => {
    let k = (depthwise ? layer.depthwiseKernel! : layer.kernel!).read() as tf.Tensor4D
    let b = layer.useBias && layer.bias ? (layer.bias.read() as tf.Tensor1D) : null
    if (bn) {
      const affine = batchNormAffine(bn)
      // Output channel o of a depthwise kernel [kh, kw, in, mult] is in·mult + m.
      const scale = depthwise ? affine.a.reshape([1, 1, k.shape[2], k.shape[3]]) : affine.a
      k = k.mul(scale) as tf.Tensor4D
      b = (b ? b.mul(affine.a).add(affine.b) : affine.b) as tf.Tensor1D
    }
    // Copies, so disposing the graph never disposes the model's own weights.
    return b ? { kernel: k.clone(), bias: b.clone() } : { kernel: k.clone() }
  }) as { kernel: tf.Tensor4D; bias?: tf.Tensor1D }
  const strides = pair(layer.strides)
  const [kh, kw, , multiplier] = kernel.shape
  // For stride 1 and an odd kernel, 'same' pads symmetrically, so the input gradient is itself a 'same'
  // convolution of dy with the flipped kernel (1×1 kernels need no padding at all).
  const sameGrad =
    strides[0] === 1 && strides[1] === 1 && kh % 2 === 1 && kw % 2 === 1 && (layer.padding === 'same' || (kh === 1 && kw === 1)) && (!depthwise || multiplier === 1)
  const gradKernel = sameGrad
    ? (tf.tidy(() => (depthwise ? tf.reverse(kernel, [0, 1]) : tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]))) as tf.Tensor4D)
    : null
  const activation = layer.activation.getClassName().toLowerCase() === 'linear' ? null : layer.activation
  const parts =
    concatChannels && gradKernel && !depthwise && !activation
      ? tf.split(kernel, concatChannels, 2).map((k) => ({
          kernel: k as tf.Tensor4D,
          gradKernel: tf.tidy(() => tf.transpose(tf.reverse(k, [0, 1]), [0, 1, 3, 2])) as tf.Tensor4D
        }))
      : null
  return {
    kind: depthwise ? 'depthwise' : 'conv',
    kernel,
    bias: bias ?? null,
    strides,
    padding: layer.padding,
    dilations: pair(layer.dilationRate),
    activation,
    relu: relu,
    gradKernel,
    parts
  }
}

function applyRelu(c: PreparedConv, y: tf.Tensor4D): tf.Tensor4D {
  if (c.relu === 'relu') return tf.relu(y)
  if (c.relu === 'relu6') return tf.relu6(y)
  return y
}

function reluMask(c: PreparedConv, dy: tf.Tensor4D, out: tf.Tensor): tf.Tensor4D {
  if (c.relu === 'relu') return dy.mul(tf.step(out))
  if (c.relu === 'relu6') return dy.mul(tf.logicalAnd(out.greater(0), out.less(6)).toFloat())
  return dy
}

/** conv(concat(parts), K) as Σ conv(part_i, K_i), with the input gradient of each part computed directly. */
function runSplitConv(c: PreparedConv, inputs: tf.Tensor4D[]): tf.Tensor4D {
  const parts = c.parts!
  const op = tf.customGrad<tf.Tensor4D>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xs = args.slice(0, parts.length) as tf.Tensor4D[]
    const save = args[parts.length] as tf.GradSaveFunc
    let sum: tf.Tensor4D = tf.fused.conv2d({ x: xs[0], filter: parts[0].kernel, strides: 1, pad: c.padding, dilations: c.dilations, ...(c.bias ? { bias: c.bias } : {}) })
    for (let i = 1; i < parts.length; i++) sum = sum.add(tf.conv2d(xs[i], parts[i].kernel, 1, c.padding, 'NHWC', c.dilations))
    const y = applyRelu(c, sum)
    save([y])
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const g = reluMask(c, dy, saved[0])
        return parts.map((p) => tf.conv2d(g, p.gradKernel, 1, 'same', 'NHWC', c.dilations))
      }
    }
  })
  return op(...inputs) as tf.Tensor4D
}

function convForward(c: PreparedConv, x: tf.Tensor4D): tf.Tensor4D {
  // The fused op adds the bias inside the convolution kernel (one pass over the output instead of two).
  const args = { x, filter: c.kernel, strides: c.strides, pad: c.padding, dataFormat: 'NHWC' as const, dilations: c.dilations, ...(c.bias ? { bias: c.bias } : {}) }
  let y = c.kind === 'conv' ? tf.fused.conv2d(args) : tf.fused.depthwiseConv2d(args)
  if (c.activation) y = c.activation.apply(y) as tf.Tensor4D
  return applyRelu(c, y)
}

/**
 * A convolution (+ bias + ReLU) as one node of the gradient tape: its backward pass is one 'same' convolution of
 * dy with the precomputed flipped kernel, masked by the ReLU. No filter or bias gradient is ever built, and no
 * per-step flipping, padding or bias-add bookkeeping happens.
 */
function runConv(c: PreparedConv, x: tf.Tensor4D): tf.Tensor4D {
  const gradKernel = c.gradKernel
  if (!gradKernel || c.activation) return convForward(c, x)
  const op = tf.customGrad<tf.Tensor4D>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor4D, tf.GradSaveFunc]
    const y = convForward(c, input)
    save([y])
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const g = reluMask(c, dy, saved[0])
        return c.kind === 'conv'
          ? tf.conv2d(g, gradKernel, 1, 'same', 'NHWC', c.dilations)
          : tf.depthwiseConv2d(g, gradKernel, 1, 'same', 'NHWC', c.dilations)
      }
    }
  })
  return op(x) as tf.Tensor4D
}

/**
 * Bilinear ×2 upsampling as tfjs's UpSampling2D computes it (align corners off, no half-pixel centres: even
 * outputs copy input j, odd ones average j and j+1, the last clamped). Its input gradient is a stride-2
 * depthwise convolution of dy with the 3×3 outer product of [½, 1, ½]; the clamped last row and column count
 * twice, which a constant weight on dy supplies. Replaces a generic ResizeBilinearGrad kernel that costs ~10×
 * the forward resize on wasm.
 */
interface Upsample2x {
  channels: number
  kernel: tf.Tensor4D
  /** [1, 2h, 2w, 1]: 2 on the last row and column (4 in the corner), 1 elsewhere; built on first use per size. */
  edgeWeights: Map<string, tf.Tensor4D>
}

function isBilinearUpsample2x(layer: Layer): boolean {
  if (layer.getClassName() !== 'UpSampling2D') return false
  const l = layer as Layer & { size: number[]; interpolation: string; dataFormat: string }
  return l.interpolation === 'bilinear' && l.size[0] === 2 && l.size[1] === 2 && l.dataFormat !== 'channelsFirst'
}

function prepareUpsample2x(layer: Layer): Upsample2x {
  const inShape = layer.inboundNodes[0].inputTensors[0].shape
  const channels = inShape[inShape.length - 1] as number
  const kernel = tf.tidy(() => {
    const k1 = tf.tensor1d([0.5, 1, 0.5])
    return tf.tile(tf.outerProduct(k1, k1).reshape([3, 3, 1, 1]), [1, 1, channels, 1]) as tf.Tensor4D
  })
  return { channels, kernel, edgeWeights: new Map() }
}

function runUpsample2x(u: Upsample2x, x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape
  const key = `${h}x${w}`
  let edge = u.edgeWeights.get(key)
  if (!edge) {
    const rows = new Float32Array(2 * h).fill(1)
    const cols = new Float32Array(2 * w).fill(1)
    rows[2 * h - 1] = 2
    cols[2 * w - 1] = 2
    // Kept: it is made during a predict (inside the caller's tidy) but lives as long as the graph.
    edge = tf.keep(tf.tidy(() => tf.outerProduct(tf.tensor1d(rows), tf.tensor1d(cols)).reshape([1, 2 * h, 2 * w, 1])) as tf.Tensor4D)
    u.edgeWeights.set(key, edge)
  }
  const weights = edge
  const op = tf.customGrad<tf.Tensor4D>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D
    return {
      value: tf.image.resizeBilinear(input, [2 * h, 2 * w]),
      gradFunc: (dy: tf.Tensor4D) => {
        // One zero row and column before the first: the window of input j covers dy[2j−1 .. 2j+1].
        return tf.depthwiseConv2d(dy.mul(weights) as tf.Tensor4D, u.kernel, 2, [
          [0, 0],
          [1, 0],
          [1, 0],
          [0, 0]
        ])
      }
    }
  })
  return op(x) as tf.Tensor4D
}

export function compileInputGradientGraph(model: tf.LayersModel): InputGradientGraph {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new Error('only single-input, single-output models are compiled')
  const layers = model.layers
  // Which layers consume each layer's output: a conv can only absorb a batch norm that is its sole consumer.
  const consumers = new Map<Layer, Layer[]>()
  for (const layer of layers) {
    if (layer.inboundNodes.length !== 1) throw new Error(`layer ${layer.name} is used ${layer.inboundNodes.length} times; shared layers are not compiled`)
    for (const inbound of layer.inboundNodes[0].inboundLayers) consumers.set(inbound, [...(consumers.get(inbound) ?? []), layer])
  }

  const prepared = new Map<Layer, PreparedConv>()
  const absorbed = new Set<Layer>()
  const affine = new Map<Layer, { a: tf.Tensor1D; b: tf.Tensor1D }>()
  const upsamples = new Map<Layer, Upsample2x>()
  for (const layer of layers) if (isBilinearUpsample2x(layer)) upsamples.set(layer, prepareUpsample2x(layer))
  const soleConsumer = (layer: Layer): Layer | null => {
    const next = consumers.get(layer) ?? []
    return next.length === 1 ? next[0] : null
  }
  // A channel concatenation whose only consumer is a plain convolution is never built (see PreparedConv.parts).
  const deferredConcat = new Set<Layer>()
  const concatChannelsOf = new Map<Layer, number[]>()
  for (const layer of layers) {
    if (layer.getClassName() !== 'Concatenate') continue
    const axis = (layer as Layer & { axis: number }).axis
    const next = soleConsumer(layer)
    if ((axis === -1 || axis === 3) && next && next.getClassName() === 'Conv2D') {
      concatChannelsOf.set(next, layer.inboundNodes[0].inputTensors.map((t) => t.shape[t.shape.length - 1] as number))
      deferredConcat.add(layer)
    }
  }
  for (const layer of layers) {
    if (isConv(layer)) {
      const linear = (layer as ConvLike).activation.getClassName().toLowerCase() === 'linear'
      const after = soleConsumer(layer)
      const bn = linear && after && isLastAxisBatchNorm(after) ? after : null
      if (bn) absorbed.add(bn)
      const tail = soleConsumer(bn ?? layer)
      const relu = linear && tail ? reluKind(tail) : null
      if (relu && tail) absorbed.add(tail)
      const conv = prepareConv(layer as ConvLike, bn as BatchNormLike | null, relu, concatChannelsOf.get(layer) ?? null)
      // A concat whose convolution cannot take it in parts is built after all.
      if (concatChannelsOf.has(layer) && !conv.parts) deferredConcat.delete(layer.inboundNodes[0].inboundLayers[0])
      prepared.set(layer, conv)
    } else if (isLastAxisBatchNorm(layer) && !absorbed.has(layer)) {
      affine.set(layer, batchNormAffine(layer))
    }
  }

  const predict = (x: tf.Tensor4D): tf.Tensor4D => {
    const values = new Map<number, tf.Tensor>([[model.inputs[0].id, x]])
    const unjoined = new Map<number, tf.Tensor4D[]>()
    for (const layer of layers) {
      const node = layer.inboundNodes[0]
      if (layer.getClassName() === 'InputLayer') continue
      const conv = prepared.get(layer)
      const parts = conv?.parts ? unjoined.get(node.inputTensors[0].id) : undefined
      if (conv && parts) {
        values.set(node.outputTensors[0].id, runSplitConv(conv, parts))
        continue
      }
      const inputs = node.inputTensors.map((t) => {
        const v = values.get(t.id)
        if (!v) throw new Error(`layer ${layer.name}: input ${t.name} not computed yet`)
        return v
      })
      if (deferredConcat.has(layer)) {
        unjoined.set(node.outputTensors[0].id, inputs as tf.Tensor4D[])
        continue
      }
      let out: tf.Tensor
      const upsample = upsamples.get(layer)
      const bnAffine = affine.get(layer)
      if (conv) out = runConv(conv, inputs[0] as tf.Tensor4D)
      else if (upsample) out = runUpsample2x(upsample, inputs[0] as tf.Tensor4D)
      else if (absorbed.has(layer)) out = inputs[0]
      else if (bnAffine) out = inputs[0].mul(bnAffine.a).add(bnAffine.b)
      else out = layer.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as tf.Tensor
      values.set(node.outputTensors[0].id, out)
    }
    return values.get(model.outputs[0].id) as tf.Tensor4D
  }

  return {
    predict,
    foldedLayers: absorbed.size,
    dispose: () => {
      for (const c of prepared.values()) {
        c.kernel.dispose()
        c.bias?.dispose()
        c.gradKernel?.dispose()
        for (const p of c.parts ?? []) tf.dispose([p.kernel, p.gradKernel])
      }
      for (const u of upsamples.values()) tf.dispose([u.kernel, ...u.edgeWeights.values()])
      for (const { a, b } of affine.values()) {
        a.dispose()
        b.dispose()
      }
    }
  }
}
