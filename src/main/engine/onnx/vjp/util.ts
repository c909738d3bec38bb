import { attrInt, attrInts, intsAttr, tensorNumbers } from '../ir'
import type { GradContext } from './types'

/**
 * Building blocks the rules share. Each emits the op in the form the model's opset expects (axes as attribute or
 * input), because the gradient ops live in the same graph, under the same opset, as the forward ops.
 */

export const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis)

export function reduceSum(ctx: GradContext, x: string, axes: number[], keepdims: boolean): string {
  if (axes.length === 0) return x
  const keep = keepdims ? 1 : 0
  if (ctx.opset >= 13) return ctx.emit('ReduceSum', [x, ctx.int64(axes)], { keepdims: keep })[0]
  return ctx.emit('ReduceSum', [x], { axes: intsAttr(axes), keepdims: keep })[0]
}

export function reshape(ctx: GradContext, x: string, shape: number[]): string {
  return ctx.emit('Reshape', [x, ctx.int64(shape)])[0]
}

export function transpose(ctx: GradContext, x: string, perm: number[]): string {
  return ctx.emit('Transpose', [x], { perm: intsAttr(perm) })[0]
}

/** A scalar of the graph's float type. */
export const scalar = (ctx: GradContext, v: number): string => ctx.float([v], [])

export const mul = (ctx: GradContext, a: string, b: string): string => ctx.emit('Mul', [a, b])[0]
export const add = (ctx: GradContext, a: string, b: string): string => ctx.emit('Add', [a, b])[0]
export const sub = (ctx: GradContext, a: string, b: string): string => ctx.emit('Sub', [a, b])[0]
export const div = (ctx: GradContext, a: string, b: string): string => ctx.emit('Div', [a, b])[0]
export const neg = (ctx: GradContext, a: string): string => ctx.emit('Neg', [a])[0]
export const where = (ctx: GradContext, cond: string, a: string, b: string): string => ctx.emit('Where', [cond, a, b])[0]

/** x broadcast to a static shape (Expand from opset 8; before it, an Add of a zero tensor of that shape). */
export function broadcastTo(ctx: GradContext, x: string, shape: number[]): string {
  if (ctx.opset >= 8) return ctx.emit('Expand', [x, ctx.int64(shape)])[0]
  return add(ctx, x, ctx.float(new Float64Array(shape.reduce((a, b) => a * b, 1)), shape))
}

/** Zeros of a static shape, made at run time so a large gradient does not become a large initializer. */
export function zeros(ctx: GradContext, shape: number[]): string {
  return broadcastTo(ctx, scalar(ctx, 0), shape)
}

/**
 * Undoes numpy broadcasting: sums `grad` (shape `from`) over the axes that broadcasting created or stretched,
 * then reshapes to `to`.
 */
export function unbroadcast(ctx: GradContext, grad: string, from: number[], to: number[]): string {
  if (from.length === to.length && from.every((d, i) => d === to[i])) return grad
  const lead = from.length - to.length
  const axes: number[] = []
  for (let i = 0; i < from.length; i++) {
    const t = i < lead ? 1 : to[i - lead]
    if (i < lead || (t === 1 && from[i] !== 1)) axes.push(i)
  }
  const summed = reduceSum(ctx, grad, axes, true)
  return reshape(ctx, summed, to)
}

/** Int values of an op's constant input (axes, shape, split sizes...), or undefined when it is absent. */
export function constantInts(ctx: GradContext, input: string | undefined): number[] | undefined {
  if (!input) return undefined
  const t = ctx.constant(input)
  if (!t) return undefined
  return tensorNumbers(t)
}

/** Axes of an op that takes them as attribute before `inputFromOpset` and as input `inputIndex` from then on. */
export function axesOf(ctx: GradContext, inputFromOpset: number, inputIndex: number): number[] | undefined {
  if (ctx.opset >= inputFromOpset) {
    const name = ctx.node.inputs[inputIndex]
    if (!name) return undefined
    const v = constantInts(ctx, name)
    if (!v) throw new Error(`node '${ctx.node.name}' (${ctx.node.opType}): axes input '${name}' is not a constant`)
    return v
  }
  return attrInts(ctx.node, 'axes')
}

/** The axes a Softmax/LogSoftmax normalises over: one axis from opset 13, all trailing axes before (2-D coercion). */
export function softmaxAxes(ctx: GradContext, rank: number): number[] {
  if (ctx.opset >= 13) return [normAxis(attrInt(ctx.node, 'axis', -1), rank)]
  const axis = normAxis(attrInt(ctx.node, 'axis', 1), rank)
  return Array.from({ length: rank - axis }, (_, i) => axis + i)
}

/** Splits x along axis into pieces of the given sizes, in the opset's Split form. */
export function split(ctx: GradContext, x: string, axis: number, sizes: number[]): string[] {
  if (ctx.opset >= 13) return ctx.emit('Split', [x, ctx.int64(sizes)], { axis }, sizes.length)
  return ctx.emit('Split', [x], { axis, split: intsAttr(sizes) }, sizes.length)
}
