import { attrInts, attrString, intAttr, intsAttr, type IrNode } from '../ir'
import { UnsupportedGradientError, type GradContext } from './types'

/**
 * Geometry of a sliding-window op (Conv, pools) on its spatial axes, with auto_pad resolved to explicit leading
 * pads. Only the leading pad matters for the backward pass: the trailing side is implied by the static shapes.
 */
export interface WindowGeometry {
  kernel: number[]
  strides: number[]
  dilations: number[]
  padsBegin: number[]
  inSize: number[]
  outSize: number[]
}

export function windowGeometry(node: IrNode, kernel: number[], xShape: number[], yShape: number[]): WindowGeometry {
  const r = kernel.length
  const inSize = xShape.slice(2)
  const outSize = yShape.slice(2)
  if (inSize.length !== r || outSize.length !== r) {
    throw new UnsupportedGradientError(node, `kernel of rank ${r} on an input of shape [${xShape}]`)
  }
  const strides = attrInts(node, 'strides') ?? new Array<number>(r).fill(1)
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(r).fill(1)
  const autoPad = attrString(node, 'auto_pad', 'NOTSET')
  let padsBegin: number[]
  if (autoPad === 'NOTSET') {
    padsBegin = (attrInts(node, 'pads') ?? new Array<number>(2 * r).fill(0)).slice(0, r)
  } else if (autoPad === 'VALID') {
    padsBegin = new Array<number>(r).fill(0)
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    // As ONNX Runtime resolves it (ComputePadAndOutputShape, PoolAttributes): the pad that makes ceil(in/stride)
    // outputs, from the undilated kernel, unclamped, halved with C++ truncation; the odd pixel goes to the end for
    // SAME_UPPER and to the beginning for SAME_LOWER. (ORT's Conv refuses dilations with SAME; its pools do not.)
    padsBegin = inSize.map((n, i) => {
      const needed = (Math.ceil(n / strides[i]) - 1) * strides[i] + kernel[i] - n
      const head = autoPad === 'SAME_UPPER' ? Math.trunc(needed / 2) : Math.trunc((needed + 1) / 2)
      if (head < 0) throw new UnsupportedGradientError(node, `${autoPad} with a negative leading pad (kernel ${kernel[i]}, stride ${strides[i]}, input ${n})`)
      return head
    })
  } else {
    throw new UnsupportedGradientError(node, `auto_pad '${autoPad}'`)
  }
  return { kernel, strides, dilations, padsBegin, inSize, outSize }
}

/** Zero-padding of a tensor's spatial axes (axes 2..), in the form the model's opset has (attribute before 11). */
export function padSpatialZeros(ctx: GradContext, value: string, rank: number, begin: number[], end: number[]): string {
  if (begin.every((v) => v === 0) && end.every((v) => v === 0)) return value
  const pads = [0, 0, ...begin, 0, 0, ...end]
  if (pads.length !== 2 * rank) throw new UnsupportedGradientError(ctx.node, `padding ${rank - 2} spatial axes`)
  if (ctx.opset < 11) return ctx.emit('Pad', [value], { mode: { kind: 'string', value: 'constant' }, pads: intsAttr(pads) })[0]
  return ctx.emit('Pad', [value, ctx.int64(pads)])[0]
}

/**
 * Adjoint of "read windows": every output position o sends its value back to input positions
 * o*stride - padBegin + k*dilation through the weights `w` ([Cin_of_g, Cout/group, ...kernel]). ConvTranspose does
 * exactly that sum, overlapping windows included; its pads crop the full result onto the input's extent, and
 * input rows past the last window (never read by the forward op) are appended as zeros.
 */
export function scatterWindows(ctx: GradContext, g: string, w: string, group: number, geo: WindowGeometry): string {
  const r = geo.kernel.length
  const cropEnd: number[] = []
  const extendEnd: number[] = []
  for (let i = 0; i < r; i++) {
    const full = geo.strides[i] * (geo.outSize[i] - 1) + geo.dilations[i] * (geo.kernel[i] - 1) + 1
    const rest = full - geo.padsBegin[i] - geo.inSize[i]
    cropEnd.push(Math.max(rest, 0))
    extendEnd.push(Math.max(-rest, 0))
  }
  const scattered = ctx.emit('ConvTranspose', [g, w], {
    kernel_shape: intsAttr(geo.kernel),
    strides: intsAttr(geo.strides),
    dilations: intsAttr(geo.dilations),
    pads: intsAttr([...geo.padsBegin, ...cropEnd]),
    group: intAttr(group)
  })[0]
  return padSpatialZeros(ctx, scattered, r + 2, new Array<number>(r).fill(0), extendEnd)
}

/** Slice of axes [axes] from starts to ends (input form from opset 10, attributes before). */
export function sliceAxes(ctx: GradContext, value: string, starts: number[], ends: number[], axes: number[]): string {
  if (ctx.opset < 10) {
    return ctx.emit('Slice', [value], { starts: intsAttr(starts), ends: intsAttr(ends), axes: intsAttr(axes) })[0]
  }
  return ctx.emit('Slice', [value, ctx.int64(starts), ctx.int64(ends), ctx.int64(axes)])[0]
}
