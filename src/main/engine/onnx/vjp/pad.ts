import { attrInts, attrString, tensorNumbers } from '../ir'
import { applyTransposedAxisMatrices, type AxisMatrix } from './resize'
import { UnsupportedGradientError, type GradContext, type GradRule } from './types'
import { sliceAxes } from './window'

/** Leading and trailing pads per axis of x (negative values crop), whatever the opset's form. */
function padAmounts(ctx: GradContext, rank: number): { begin: number[]; end: number[] } {
  const node = ctx.node
  let pads: number[] | undefined
  let axes = Array.from({ length: rank }, (_, i) => i)
  if (ctx.opset < 11) {
    pads = attrInts(node, 'pads') ?? attrInts(node, 'paddings')
  } else {
    const t = ctx.constant(node.inputs[1])
    if (!t) throw new UnsupportedGradientError(node, 'pads that are not constant')
    pads = tensorNumbers(t)
    const axesName = node.inputs[3] ?? ''
    if (axesName) {
      const a = ctx.constant(axesName)
      if (!a) throw new UnsupportedGradientError(node, 'axes that are not constant')
      axes = tensorNumbers(a).map((v) => (v < 0 ? v + rank : v))
    }
  }
  if (!pads || pads.length !== 2 * axes.length) throw new UnsupportedGradientError(node, `pads [${pads ?? ''}] for ${axes.length} axes`)
  const begin = new Array<number>(rank).fill(0)
  const end = new Array<number>(rank).fill(0)
  axes.forEach((a, i) => {
    begin[a] = pads[i]
    end[a] = pads[axes.length + i]
  })
  return { begin, end }
}

/** Source index along one axis of every padded position, as numpy.pad / ONNX Runtime define the modes. */
function sourceIndex(mode: string, o: number, begin: number, n: number): number {
  let i = o - begin
  if (mode === 'edge') return Math.min(Math.max(i, 0), n - 1)
  if (mode === 'wrap') return ((i % n) + n) % n
  // reflect: mirror about the first and last elements, which are not repeated.
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i
  return i
}

/**
 * dL/dx of Pad. Constant mode: the gradient is the interior of dL/dy (a Slice), with zeros where negative pads
 * cropped x. Reflect, edge and wrap copy inputs into the border, so each input also collects the gradients of its
 * copies: on each padded axis the pad is a 0/1 matrix, and the gradient is a MatMul with its transpose.
 */
export const padGrad: GradRule = (ctx, gradOutputs, wanted) => {
  const node = ctx.node
  if (wanted.slice(1).some(Boolean)) throw new UnsupportedGradientError(node, 'pads, constant value or axes that depend on the differentiated input')
  const gy = gradOutputs[0]
  if (!wanted[0] || !gy) return node.inputs.map(() => undefined)
  const xShape = ctx.shape(node.inputs[0])
  const rank = xShape.length
  const { begin, end } = padAmounts(ctx, rank)
  const mode = attrString(node, 'mode', 'constant')
  const rest = node.inputs.slice(1).map(() => undefined)
  if (mode === 'constant') {
    const axes = xShape.map((_, i) => i).filter((i) => begin[i] !== 0 || end[i] !== 0)
    if (axes.length === 0) return [ctx.emit('Identity', [gy])[0], ...rest]
    const starts = axes.map((a) => Math.max(begin[a], 0))
    const ends = axes.map((a, k) => starts[k] + xShape[a] - Math.max(-begin[a], 0) - Math.max(-end[a], 0))
    let g = sliceAxes(ctx, gy, starts, ends, axes)
    const cropBegin = xShape.map((_, i) => Math.max(-begin[i], 0))
    const cropEnd = xShape.map((_, i) => Math.max(-end[i], 0))
    if ([...cropBegin, ...cropEnd].some((v) => v > 0)) {
      const pads = [...cropBegin, ...cropEnd]
      g = ctx.opset < 11 ? ctx.emit('Pad', [g], { pads: { kind: 'ints', value: pads } })[0] : ctx.emit('Pad', [g, ctx.int64(pads)])[0]
    }
    return [g, ...rest]
  }
  if (mode !== 'reflect' && mode !== 'edge' && mode !== 'wrap') throw new UnsupportedGradientError(node, `mode '${mode}'`)
  const maps: AxisMatrix[] = []
  for (let a = 0; a < rank; a++) {
    if (begin[a] === 0 && end[a] === 0) continue
    if (begin[a] < 0 || end[a] < 0) throw new UnsupportedGradientError(node, `negative pads in ${mode} mode`)
    if (a < rank - 2) throw new UnsupportedGradientError(node, `${mode} padding of axis ${a} (only the last two axes are supported)`)
    const n = xShape[a]
    if (mode === 'reflect' && (begin[a] >= n || end[a] >= n)) throw new UnsupportedGradientError(node, `reflect pads wider than the input (${n}) on axis ${a}`)
    const out = n + begin[a] + end[a]
    const matrix = new Float32Array(out * n)
    for (let o = 0; o < out; o++) matrix[o * n + sourceIndex(mode, o, begin[a], n)] = 1
    maps.push({ axis: a, matrix, outLength: out, inLength: n })
  }
  if (maps.length === 0) return [ctx.emit('Identity', [gy])[0], ...rest]
  return [applyTransposedAxisMatrices(ctx, gy, rank, maps), ...rest]
}
