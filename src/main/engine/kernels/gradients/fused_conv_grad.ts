/**
 * Gradients of tf.fused.conv2d and tf.fused.depthwiseConv2d that support dilations > 1.
 *
 * Those ops attach their gradient as a customGrad closure that rejects dilation, so a registered gradient for the
 * FusedConv2D kernel is never consulted. The engine does, however, look up the gradient registry by the name of
 * the tape node before using the closure, and a customGrad node is named after its op scope
 * ('fusedConv2d__op', 'fusedDepthwiseConv2d__op'). Registering a gradient under that name replaces the closure.
 * The node carries no attributes, so the forward kernels are wrapped to remember the attributes of each output,
 * keyed by its dataId. The node saves a clone of the output, made by the Identity kernel: on cpu the clone shares
 * the dataId, on wasm it is a copy with a new one, so Identity is wrapped too and carries the record over.
 *
 * In gradient mode tfjs only takes the fused path for a linear activation (otherwise it runs conv + bias +
 * activation unfused), so 'linear' is what arrives here; 'relu' is handled too, as in tfjs.
 */
import * as tf from '@tensorflow/tfjs'
import {
  conv2dBackpropFilterImpl,
  conv2dBackpropInputImpl,
  depthwiseConv2dBackpropFilterImpl,
  depthwiseConv2dBackpropInputImpl
} from '../impl/conv_backprop'

/** Scope names tfjs-core 4.x gives the fused ops (op({fusedConv2d_}) → 'fusedConv2d' + '__op'). */
export const FUSED_CONV2D_SCOPE = 'fusedConv2d__op'
export const FUSED_DEPTHWISE_SCOPE = 'fusedDepthwiseConv2d__op'

type FusedAttrs = tf.FusedConv2DAttrs
const attrsByOutput = new WeakMap<object, FusedAttrs>()
/** Our wrappers, recognised by identity so that a kernel re-registered later by its package gets wrapped again. */
const wrappers = new WeakSet<tf.KernelFunc>()

function wrapKernel(kernelName: string, backendName: string, after: (args: Parameters<tf.KernelFunc>[0], out: tf.TensorInfo) => void): void {
  const original = tf.getKernel(kernelName, backendName)
  if (original == null || wrappers.has(original.kernelFunc)) return
  const kernelFunc: tf.KernelFunc = (args) => {
    const out = original.kernelFunc(args)
    const first = Array.isArray(out) ? out[0] : out
    if (first != null) after(args, first)
    return out
  }
  wrappers.add(kernelFunc)
  tf.unregisterKernel(kernelName, backendName)
  tf.registerKernel({ ...original, kernelFunc })
}

const recordAttrs = (args: Parameters<tf.KernelFunc>[0], out: tf.TensorInfo): void => {
  if (args.attrs != null) attrsByOutput.set(out.dataId, args.attrs as unknown as FusedAttrs)
}

const carryOver = (args: Parameters<tf.KernelFunc>[0], out: tf.TensorInfo): void => {
  const x = args.inputs.x
  if (x == null || x.dataId === out.dataId) return
  const attrs = attrsByOutput.get(x.dataId)
  if (attrs != null) attrsByOutput.set(out.dataId, attrs)
}

/**
 * Wraps the fused forward kernels of every backend registered so far. Idempotent; call again after registering a
 * backend later (backend.ts calls it through registerWasmKernels).
 */
export function recordFusedConvAttrs(): void {
  for (const backendName of tf.engine().backendNames()) {
    wrapKernel(tf.FusedConv2D, backendName, recordAttrs)
    wrapKernel(tf.FusedDepthwiseConv2D, backendName, recordAttrs)
    wrapKernel(tf.Identity, backendName, carryOver)
  }
}

function attrsOf(y: tf.Tensor, op: string): FusedAttrs {
  const attrs = attrsByOutput.get(y.dataId)
  if (attrs == null) {
    throw new Error(
      `Gradient of ${op}: no attributes were recorded for this convolution; its backend ('${tf.getBackend()}') was ` +
        `probably registered after registerGradientOverrides(). Call it again after loading that backend.`
    )
  }
  return attrs
}

function dyThroughActivation(dy: tf.Tensor4D, y: tf.Tensor4D, activation: string | undefined, op: string): tf.Tensor4D {
  if (activation == null || activation === 'linear') return dy
  if (activation === 'relu') return tf.mul(dy, tf.step(y))
  throw new Error(`Gradient of ${op}: cannot differentiate through fused activation '${activation}'`)
}

function biasGrad(bias: tf.Tensor, dy: tf.Tensor4D): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(bias.shape, dy.shape)
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, bias.shape)
}

type Geometry = Pick<FusedAttrs, 'strides' | 'pad' | 'dilations' | 'dimRoundingMode'>

function makeFusedGrad(
  op: string,
  backprop: (x: tf.Tensor4D, filter: tf.Tensor4D, dy: tf.Tensor4D, a: Geometry) => { dx: () => tf.Tensor; dw: () => tf.Tensor }
): tf.GradConfig['gradFunc'] {
  return (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [filter, x, y, bias] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor | undefined]
    const attrs = attrsOf(y, op)
    if (attrs.dataFormat === 'NCHW') throw new Error(`Gradient of ${op}: only NHWC is supported (as in tfjs)`)
    // A 3-D input is reshaped to 4-D inside the op, so dy may come back 3-D.
    const g = dyThroughActivation(tf.reshape(dy as tf.Tensor, y.shape) as tf.Tensor4D, y, attrs.activation, op)
    const { dx, dw } = backprop(x, filter, g, attrs)
    const grads: Record<string, () => tf.Tensor> = { 0: dx, 1: dw }
    if (bias != null) grads[2] = () => biasGrad(bias, g)
    return grads
  }
}

const conv2dBackprop = (x: tf.Tensor4D, filter: tf.Tensor4D, dy: tf.Tensor4D, a: Geometry) => {
  const dilations = a.dilations ?? 1
  if (tf.backend_util.tupleValuesAreOne(dilations)) {
    const common = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dimRoundingMode: a.dimRoundingMode }
    return {
      dx: () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter }, { ...common, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      dw: () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...common, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor
    }
  }
  return {
    dx: () => conv2dBackpropInputImpl(dy, filter, x.shape, a.strides, a.pad, dilations, a.dimRoundingMode),
    dw: () => conv2dBackpropFilterImpl(x, dy, filter.shape, a.strides, a.pad, dilations, a.dimRoundingMode)
  }
}

const depthwiseBackprop = (x: tf.Tensor4D, filter: tf.Tensor4D, dy: tf.Tensor4D, a: Geometry) => {
  const dilations = a.dilations ?? 1
  if (tf.backend_util.tupleValuesAreOne(dilations)) {
    const common = { strides: a.strides, pad: a.pad, dilations, dimRoundingMode: a.dimRoundingMode }
    return {
      dx: () =>
        tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy, filter }, { ...common, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      dw: () =>
        tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x, dy }, { ...common, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor
    }
  }
  return {
    dx: () => depthwiseConv2dBackpropInputImpl(dy, filter, x.shape, a.strides, a.pad, dilations, a.dimRoundingMode),
    dw: () => depthwiseConv2dBackpropFilterImpl(x, dy, filter.shape, a.strides, a.pad, dilations, a.dimRoundingMode)
  }
}

export const fusedConv2DGradConfig: tf.GradConfig = {
  kernelName: FUSED_CONV2D_SCOPE,
  gradFunc: makeFusedGrad('fused conv2d', conv2dBackprop)
}

export const fusedDepthwiseConv2DGradConfig: tf.GradConfig = {
  kernelName: FUSED_DEPTHWISE_SCOPE,
  gradFunc: makeFusedGrad('fused depthwiseConv2d', depthwiseBackprop)
}
