import { attrInt, tensorNumbers } from '../ir'
import { type GradRule, UnsupportedGradientError } from './types'
import { div, mul, neg, scalar, unbroadcast } from './util'

/** Binary ops with numpy broadcasting: each input's gradient is summed back to that input's shape. */
function binary(local: (ctx: Parameters<GradRule>[0], g: string, j: 0 | 1) => string): GradRule {
  return (ctx, [g], wanted) => {
    const outShape = ctx.shape(ctx.node.outputs[0])
    return [0, 1].map((j) => (wanted[j] ? unbroadcast(ctx, local(ctx, g!, j as 0 | 1), outShape, ctx.shape(ctx.node.inputs[j])) : undefined))
  }
}

const passThrough: GradRule = (_ctx, [g], wanted) => [wanted[0] ? g : undefined]

export const elementwiseRules: Record<string, GradRule> = {
  Add: binary((_ctx, g) => g),
  Sub: binary((ctx, g, j) => (j === 0 ? g : neg(ctx, g))),
  Mul: binary((ctx, g, j) => mul(ctx, g, ctx.node.inputs[1 - j])),
  Div: binary((ctx, g, j) => {
    const [a, b] = ctx.node.inputs
    if (j === 0) return div(ctx, g, b)
    // d(a/b)/db = −a/b² = −y/b
    return neg(ctx, div(ctx, mul(ctx, g, ctx.node.outputs[0]), b))
  }),
  Sum: (ctx, [g], wanted) => {
    const outShape = ctx.shape(ctx.node.outputs[0])
    return ctx.node.inputs.map((x, j) => (wanted[j] ? unbroadcast(ctx, g!, outShape, ctx.shape(x)) : undefined))
  },
  Neg: (ctx, [g], wanted) => [wanted[0] ? neg(ctx, g!) : undefined],
  Identity: passThrough,
  // Inference mode: the mask output (if any) carries no gradient.
  Dropout: (ctx, [g], wanted) => {
    if (ctx.opset >= 12 && ctx.node.inputs[2] && ctx.constant(ctx.node.inputs[2]) === undefined) {
      throw new UnsupportedGradientError(ctx.node, 'training_mode must be a constant false')
    }
    return [wanted[0] ? g : undefined, undefined, undefined]
  },
  Cast: (ctx, [g], wanted) => {
    // FLOAT, DOUBLE: the gradient flows through; a cast to an integer type has none.
    const to = attrInt(ctx.node, 'to', 1)
    if (to !== 1 && to !== 11) throw new UnsupportedGradientError(ctx.node, 'a cast of an input-dependent value to a non-float type has no gradient')
    return [wanted[0] ? g : undefined]
  },
  Expand: (ctx, [g], wanted) => [wanted[0] ? unbroadcast(ctx, g!, ctx.shape(ctx.node.outputs[0]), ctx.shape(ctx.node.inputs[0])) : undefined, undefined],
  Exp: (ctx, [g], wanted) => [wanted[0] ? mul(ctx, g!, ctx.node.outputs[0]) : undefined],
  Sqrt: (ctx, [g], wanted) => [wanted[0] ? div(ctx, mul(ctx, g!, scalar(ctx, 0.5)), ctx.node.outputs[0]) : undefined],
  Pow: (ctx, [g], wanted) => {
    const [x, p] = ctx.node.inputs
    if (wanted[1] || !ctx.constant(p)) throw new UnsupportedGradientError(ctx.node, 'only a constant exponent is supported')
    if (!wanted[0]) return [undefined, undefined]
    // d(x^p)/dx = p·x^(p−1), with p read here so the new constants take the graph's float type whatever p's type.
    const pt = ctx.constant(p)!
    const pv = tensorNumbers(pt)
    const pf = ctx.float(pv, pt.dims)
    const local = mul(ctx, pf, ctx.emit('Pow', [x, ctx.float(pv.map((v) => v - 1), pt.dims)])[0])
    return [unbroadcast(ctx, mul(ctx, g!, local), ctx.shape(ctx.node.outputs[0]), ctx.shape(x)), undefined]
  }
}
