import { attrInt, elementCount } from '../ir'
import { type GradContext, type GradRule } from './types'
import { axesOf, broadcastTo, mul, normAxis, reshape, scalar } from './util'

/** The reduced axes of a ReduceSum/ReduceMean node (all axes when none are given, unless noop_with_empty_axes). */
function reducedAxes(ctx: GradContext, axesInputFrom: number): number[] | 'noop' {
  const rank = ctx.shape(ctx.node.inputs[0]).length
  const axes = axesOf(ctx, axesInputFrom, 1)
  if (!axes || axes.length === 0) return attrInt(ctx.node, 'noop_with_empty_axes', 0) === 1 ? 'noop' : Array.from({ length: rank }, (_, i) => i)
  return axes.map((a) => normAxis(a, rank))
}

/** Broadcasts the gradient of a reduction back over the reduced axes (times `factor`). */
function spreadBack(ctx: GradContext, g: string, axes: number[], factor: number): string {
  const inShape = ctx.shape(ctx.node.inputs[0])
  const kept = inShape.map((d, i) => (axes.includes(i) ? 1 : d))
  const r = reshape(ctx, g, kept)
  const spread = broadcastTo(ctx, r, inShape)
  return factor === 1 ? spread : mul(ctx, spread, scalar(ctx, factor))
}

function reduceRule(axesInputFrom: number, mean: boolean): GradRule {
  return (ctx, [g], wanted) => {
    const none = ctx.node.inputs.map(() => undefined)
    if (!wanted[0]) return none
    const axes = reducedAxes(ctx, axesInputFrom)
    if (axes === 'noop') return [g, ...none.slice(1)]
    const inShape = ctx.shape(ctx.node.inputs[0])
    const count = elementCount(axes.map((a) => inShape[a]))
    return [spreadBack(ctx, g!, axes, mean ? 1 / count : 1), ...none.slice(1)]
  }
}

export const reduceRules: Record<string, GradRule> = {
  ReduceSum: reduceRule(13, false),
  ReduceMean: reduceRule(18, true)
}
