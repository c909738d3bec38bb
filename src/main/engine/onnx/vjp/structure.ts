import { attrInt, attrInts } from '../ir'
import { type GradContext, type GradRule, UnsupportedGradientError } from './types'
import { constantInts, normAxis, reshape, split, transpose, zeros } from './util'

/** Ops that only move data: their gradients move it back. */

/** Reshape-like ops: the gradient is the incoming one in the input's shape (extra inputs carry none). */
const reshapeBack: GradRule = (ctx, [g], wanted) => ctx.node.inputs.map((x, j) => (j === 0 && wanted[0] ? reshape(ctx, g!, ctx.shape(x)) : undefined))

interface SliceSpec {
  axes: number[]
  starts: number[]
  ends: number[]
  steps: number[]
}

function sliceSpec(ctx: GradContext): SliceSpec {
  const n = ctx.node
  if (ctx.opset < 10) {
    const starts = attrInts(n, 'starts') ?? []
    return { starts, ends: attrInts(n, 'ends') ?? [], axes: attrInts(n, 'axes') ?? starts.map((_, i) => i), steps: starts.map(() => 1) }
  }
  const read = (i: number): number[] | undefined => {
    const name = n.inputs[i]
    if (!name) return undefined
    const v = constantInts(ctx, name)
    if (!v) throw new UnsupportedGradientError(n, `slice bound '${name}' depends on the input`)
    return v
  }
  const starts = read(1)!
  return { starts, ends: read(2)!, axes: read(3) ?? starts.map((_, i) => i), steps: read(4) ?? starts.map(() => 1) }
}

/** Input indices a Slice takes along one axis, per the ONNX clamping rules. */
export function sliceIndices(dim: number, start: number, end: number, step: number): number[] {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi)
  // Int64 extremes (INT_MAX as "to the end") arrive as doubles; clamping handles them.
  let s = start < 0 ? start + dim : start
  let e = end < 0 ? end + dim : end
  const out: number[] = []
  if (step > 0) {
    s = clamp(s, 0, dim)
    e = clamp(e, 0, dim)
    for (let i = s; i < e; i += step) out.push(i)
  } else {
    s = clamp(s, 0, dim - 1)
    e = clamp(e, -1, dim - 1)
    for (let i = s; i > e; i += step) out.push(i)
  }
  return out
}

const slice: GradRule = (ctx, [g], wanted) => {
  const none = ctx.node.inputs.map(() => undefined)
  if (!wanted[0]) return none
  if (wanted.slice(1).some(Boolean)) throw new UnsupportedGradientError(ctx.node, 'slice bounds depend on the input')
  const inShape = ctx.shape(ctx.node.inputs[0])
  const rank = inShape.length
  const spec = sliceSpec(ctx)
  const picks = inShape.map((d) => Array.from({ length: d }, (_, i) => i))
  spec.axes.forEach((a, k) => {
    const axis = normAxis(a, rank)
    picks[axis] = sliceIndices(inShape[axis], spec.starts[k], spec.ends[k], spec.steps[k])
  })
  const contiguous = picks.every((p) => p.every((v, i) => i === 0 || v === p[i - 1] + 1))
  if (contiguous && picks.every((p) => p.length > 0)) {
    // Unit steps: zero-pad the gradient back to the input's extent.
    const begin = picks.map((p) => p[0])
    const end = picks.map((p, i) => inShape[i] - (p[0] + p.length))
    if (begin.every((v) => v === 0) && end.every((v) => v === 0)) return [g, ...none.slice(1)]
    const pads = [...begin, ...end]
    const padded = ctx.opset >= 11 ? ctx.emit('Pad', [g!, ctx.int64(pads)])[0] : ctx.emit('Pad', [g!], { pads })[0]
    return [padded, ...none.slice(1)]
  }
  // Strided or reversed: per sliced axis, multiply by the 0/1 selection matrix Sᵀ (|picked| × dim), moving that axis last.
  let cur = g!
  for (let axis = 0; axis < rank; axis++) {
    const p = picks[axis]
    const identity = p.length === inShape[axis] && p.every((v, i) => v === i)
    if (identity) continue
    if (p.length === 0) return [zeros(ctx, inShape), ...none.slice(1)]
    const sel = new Float64Array(p.length * inShape[axis])
    p.forEach((src, o) => (sel[o * inShape[axis] + src] = 1))
    const perm = Array.from({ length: rank }, (_, i) => i)
    perm[axis] = rank - 1
    perm[rank - 1] = axis
    const moved = axis === rank - 1 ? cur : transpose(ctx, cur, perm)
    const scattered = ctx.emit('MatMul', [moved, ctx.float(sel, [p.length, inShape[axis]])])[0]
    cur = axis === rank - 1 ? scattered : transpose(ctx, scattered, perm)
  }
  return [cur, ...none.slice(1)]
}

export const structureRules: Record<string, GradRule> = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: (ctx, [g], wanted) => {
    if (!wanted[0]) return [undefined]
    const rank = ctx.shape(ctx.node.inputs[0]).length
    const perm = attrInts(ctx.node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i)
    const inverse = new Array<number>(rank)
    perm.forEach((p, i) => (inverse[p] = i))
    return [transpose(ctx, g!, inverse)]
  },
  Concat: (ctx, [g], wanted) => {
    const rank = ctx.shape(ctx.node.outputs[0]).length
    const axis = normAxis(attrInt(ctx.node, 'axis', 0), rank)
    const sizes = ctx.node.inputs.map((x) => ctx.shape(x)[axis])
    const pieces = split(ctx, g!, axis, sizes)
    return ctx.node.inputs.map((_, j) => (wanted[j] ? pieces[j] : undefined))
  },
  Split: (ctx, gs, wanted) => {
    const none = ctx.node.inputs.map(() => undefined)
    if (!wanted[0]) return none
    const rank = ctx.shape(ctx.node.inputs[0]).length
    const axis = normAxis(attrInt(ctx.node, 'axis', 0), rank)
    const parts = ctx.node.outputs.map((o, i) => gs[i] ?? zeros(ctx, ctx.shape(o)))
    const joined = parts.length === 1 ? parts[0] : ctx.emit('Concat', parts, { axis })[0]
    return [joined, ...none.slice(1)]
  },
  Slice: slice
}
