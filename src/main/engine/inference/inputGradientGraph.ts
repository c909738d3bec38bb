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
  /** How many batch norms were folded into the convolution before them. */
  foldedBatchNorms: number
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

function prepareConv(layer: ConvLike, bn: BatchNormLike | null): PreparedConv {
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
  return {
    kind: depthwise ? 'depthwise' : 'conv',
    kernel,
    bias: bias ?? null,
    strides: pair(layer.strides),
    padding: layer.padding,
    dilations: pair(layer.dilationRate),
    activation: layer.activation.getClassName().toLowerCase() === 'linear' ? null : layer.activation
  }
}

function runConv(c: PreparedConv, x: tf.Tensor4D): tf.Tensor4D {
  let y =
    c.kind === 'conv'
      ? tf.conv2d(x, c.kernel, c.strides, c.padding, 'NHWC', c.dilations)
      : tf.depthwiseConv2d(x, c.kernel, c.strides, c.padding, 'NHWC', c.dilations)
  if (c.bias) y = y.add(c.bias)
  return (c.activation ? c.activation.apply(y) : y) as tf.Tensor4D
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
  for (const layer of layers) {
    if (isConv(layer)) {
      const next = consumers.get(layer) ?? []
      const bn = next.length === 1 && isLastAxisBatchNorm(next[0]) && (layer as ConvLike).activation.getClassName().toLowerCase() === 'linear' ? next[0] : null
      if (bn) absorbed.add(bn)
      prepared.set(layer, prepareConv(layer as ConvLike, bn as BatchNormLike | null))
    } else if (isLastAxisBatchNorm(layer) && !absorbed.has(layer)) {
      affine.set(layer, batchNormAffine(layer))
    }
  }

  const predict = (x: tf.Tensor4D): tf.Tensor4D => {
    const values = new Map<number, tf.Tensor>([[model.inputs[0].id, x]])
    for (const layer of layers) {
      const node = layer.inboundNodes[0]
      if (layer.getClassName() === 'InputLayer') continue
      const inputs = node.inputTensors.map((t) => {
        const v = values.get(t.id)
        if (!v) throw new Error(`layer ${layer.name}: input ${t.name} not computed yet`)
        return v
      })
      let out: tf.Tensor
      const conv = prepared.get(layer)
      const bnAffine = affine.get(layer)
      if (conv) out = runConv(conv, inputs[0] as tf.Tensor4D)
      else if (absorbed.has(layer)) out = inputs[0]
      else if (bnAffine) out = inputs[0].mul(bnAffine.a).add(bnAffine.b)
      else out = layer.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as tf.Tensor
      values.set(node.outputTensors[0].id, out)
    }
    return values.get(model.outputs[0].id) as tf.Tensor4D
  }

  return {
    predict,
    foldedBatchNorms: absorbed.size,
    dispose: () => {
      for (const c of prepared.values()) {
        c.kernel.dispose()
        c.bias?.dispose()
      }
      for (const { a, b } of affine.values()) {
        a.dispose()
        b.dispose()
      }
    }
  }
}
