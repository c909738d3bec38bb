import { attrInt, attrInts, attrString, intAttr, intsAttr } from '../ir'
import { UnsupportedGradientError, type GradContext, type GradRule } from './types'
import { scatterWindows, sliceAxes, windowGeometry, type WindowGeometry } from './window'

/**
 * dL/dx of Conv: the adjoint of a convolution is a transposed convolution with the same weights, strides,
 * dilations and group (Conv's weight layout [Cout, Cin/group, ...k] is ConvTranspose's [C, M/group, ...k] with
 * the roles of the channel counts swapped). The weights and bias must not depend on the input image.
 */
export const convGrad: GradRule = (ctx, gradOutputs, wanted) => {
  const node = ctx.node
  if (wanted[1] || wanted[2]) throw new UnsupportedGradientError(node, 'weights or bias that depend on the differentiated input')
  const gy = gradOutputs[0]
  if (!wanted[0] || !gy) return [undefined, undefined, undefined]
  const wShape = ctx.shape(node.inputs[1])
  const kernel = attrInts(node, 'kernel_shape') ?? wShape.slice(2)
  const xShape = ctx.shape(node.inputs[0])
  const geo = windowGeometry(node, kernel, xShape, ctx.shape(node.outputs[0]))
  const group = attrInt(node, 'group', 1)
  const flipped = depthwiseAsConv(ctx, gy, group, wShape, geo) ?? denseAsConv(ctx, gy, group, wShape, geo)
  if (flipped) return [flipped, undefined, undefined]
  return [scatterWindows(ctx, gy, node.inputs[1], group, geo), undefined, undefined]
}

/**
 * The adjoint of a stride-1 depthwise 3x3 convolution is the same convolution with the kernel flipped and the pads
 * mirrored. ONNX Runtime has a fast depthwise 3x3 Conv kernel but computes a grouped ConvTranspose one channel at a
 * time (measured on MobileNetV3 shapes, 1 thread: 2-12x slower), and MobileNet's blocks are mostly of this kind.
 * Returns undefined where the rewrite does not apply.
 */
function depthwiseAsConv(ctx: GradContext, gy: string, group: number, wShape: number[], geo: WindowGeometry): string | undefined {
  const channels = wShape[0]
  if (group === 1 || wShape[1] !== 1 || channels !== group || geo.kernel.length !== 2) return undefined
  if (geo.kernel.some((k) => k !== 3) || geo.strides.some((s) => s !== 1)) return undefined
  const w = ctx.constant(ctx.node.inputs[1])
  if (!w || w.dataType !== 'float32') return undefined
  const padsBegin = geo.kernel.map((k, i) => geo.dilations[i] * (k - 1) - geo.padsBegin[i])
  const padsEnd = geo.kernel.map((k, i) => geo.inSize[i] - 1 + geo.dilations[i] * (k - 1) + 1 - geo.outSize[i] - padsBegin[i])
  if ([...padsBegin, ...padsEnd].some((p) => p < 0)) return undefined
  const taps = geo.kernel[0] * geo.kernel[1]
  const flippedWeights = new Float32Array(w.data.length)
  for (let c = 0; c < channels; c++) for (let t = 0; t < taps; t++) flippedWeights[c * taps + t] = (w.data as Float32Array)[c * taps + taps - 1 - t]
  return ctx.emit('Conv', [gy, ctx.float(flippedWeights, wShape)], {
    kernel_shape: intsAttr(geo.kernel),
    dilations: intsAttr(geo.dilations),
    pads: intsAttr([...padsBegin, ...padsEnd]),
    group: intAttr(group)
  })[0]
}

/**
 * The adjoint of a stride-1 dense (group 1) 2-D convolution is a convolution of dL/dy with the kernel flipped and
 * its in/out channels swapped ([Cout, Cin, kh, kw] → [Cin, Cout, kh, kw]), pads mirrored. ONNX Runtime runs Conv
 * in its blocked NCHWc layout, while ConvTranspose goes through im2col and layout reorders around it: on the zoo
 * U-Net (all 3×3 stride-1) the rewrite cut the whole grid-saliency step (BENCHMARKS.md, ONNX Runtime section).
 * Returns undefined where the rewrite does not apply.
 */
function denseAsConv(ctx: GradContext, gy: string, group: number, wShape: number[], geo: WindowGeometry): string | undefined {
  if (group !== 1 || geo.kernel.length !== 2 || geo.strides.some((s) => s !== 1)) return undefined
  const w = ctx.constant(ctx.node.inputs[1])
  if (!w || w.dataType !== 'float32') return undefined
  const padsBegin = geo.kernel.map((k, i) => geo.dilations[i] * (k - 1) - geo.padsBegin[i])
  const padsEnd = geo.kernel.map((k, i) => geo.inSize[i] - 1 + geo.dilations[i] * (k - 1) + 1 - geo.outSize[i] - padsBegin[i])
  if ([...padsBegin, ...padsEnd].some((p) => p < 0)) return undefined
  const [cout, cin, kh, kw] = wShape
  const taps = kh * kw
  const src = w.data as Float32Array
  const swapped = new Float32Array(src.length)
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < cin; i++) {
      const from = (o * cin + i) * taps
      const to = (i * cout + o) * taps
      for (let t = 0; t < taps; t++) swapped[to + t] = src[from + taps - 1 - t]
    }
  }
  return ctx.emit('Conv', [gy, ctx.float(swapped, [cin, cout, kh, kw])], {
    kernel_shape: intsAttr(geo.kernel),
    dilations: intsAttr(geo.dilations),
    pads: intsAttr([...padsBegin, ...padsEnd]),
    group: intAttr(1)
  })[0]
}

/**
 * dL/dx of ConvTranspose: a Conv of dL/dy with the same weights, strides, dilations and group. The forward op
 * writes x[i] to y[i*stride - padBegin + k*dilation]; reading those positions back is a convolution over dL/dy
 * padded by padBegin at the start. Positions of y that no input reaches (output_padding, output_shape larger than
 * the natural size) hold only the bias and get no gradient; they are cut off before the Conv.
 */
export const convTransposeGrad: GradRule = (ctx, gradOutputs, wanted) => {
  const node = ctx.node
  if (wanted[1] || wanted[2]) throw new UnsupportedGradientError(node, 'weights or bias that depend on the differentiated input')
  const gy = gradOutputs[0]
  if (!wanted[0] || !gy) return [undefined, undefined, undefined]
  const xShape = ctx.shape(node.inputs[0])
  const yShape = ctx.shape(node.outputs[0])
  const wShape = ctx.shape(node.inputs[1])
  const kernel = attrInts(node, 'kernel_shape') ?? wShape.slice(2)
  const r = kernel.length
  const strides = attrInts(node, 'strides') ?? new Array<number>(r).fill(1)
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(r).fill(1)
  const outputPadding = attrInts(node, 'output_padding') ?? new Array<number>(r).fill(0)
  const autoPad = attrString(node, 'auto_pad', 'NOTSET')
  const explicitOutputShape = attrInts(node, 'output_shape')
  const padsBegin: number[] = []
  for (let i = 0; i < r; i++) {
    const n = xShape[2 + i]
    const dk = dilations[i] * (kernel[i] - 1) + 1
    if (explicitOutputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      // ONNX Runtime's ComputeTransposePadAndOutputShape: the total padding that yields the output size; the
      // extra pixel of an odd total goes to the end for SAME_UPPER and to the beginning otherwise.
      const target = explicitOutputShape ? explicitOutputShape[explicitOutputShape.length - r + i] : n * strides[i]
      const total = Math.max(0, strides[i] * (n - 1) + outputPadding[i] + dk - target)
      padsBegin.push(autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2))
    } else if (autoPad === 'NOTSET' || autoPad === 'VALID') {
      padsBegin.push(autoPad === 'VALID' ? 0 : (attrInts(node, 'pads') ?? new Array<number>(2 * r).fill(0))[i])
    } else {
      throw new UnsupportedGradientError(node, `auto_pad '${autoPad}'`)
    }
  }
  // Keep only the part of dL/dy that some input position writes to.
  const reach = padsBegin.map((pb, i) => Math.min(yShape[2 + i], strides[i] * (xShape[2 + i] - 1) + dilations[i] * (kernel[i] - 1) + 1 - pb))
  let g = gy
  if (reach.some((e, i) => e < yShape[2 + i])) {
    g = sliceAxes(ctx, gy, reach.map(() => 0), reach, reach.map((_, i) => 2 + i))
  }
  const gyLen = reach
  const padsEnd = gyLen.map((len, i) => (xShape[2 + i] - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - len - padsBegin[i])
  if (padsEnd.some((p) => p < 0)) throw new UnsupportedGradientError(node, `pads [${padsBegin}] that crop written positions`)
  const dx = ctx.emit('Conv', [g, node.inputs[1]], {
    kernel_shape: intsAttr(kernel),
    strides: intsAttr(strides),
    dilations: intsAttr(dilations),
    pads: intsAttr([...padsBegin, ...padsEnd]),
    group: intAttr(attrInt(node, 'group', 1))
  })[0]
  return [dx, undefined, undefined]
}
