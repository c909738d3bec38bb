import { attrFloat } from '../ir'
import { type GradRule, UnsupportedGradientError } from './types'
import { mul, reduceSum, scalar, softmaxAxes, sub, where } from './util'

/**
 * Pointwise activations: the gradient is the incoming gradient times a mask or a closed-form local derivative,
 * written with the forward output where that is cheaper (sigmoid, tanh, softmax).
 */

const x0 = (ctx: Parameters<GradRule>[0]): string => ctx.node.inputs[0]
const y0 = (ctx: Parameters<GradRule>[0]): string => ctx.node.outputs[0]
const zero = (ctx: Parameters<GradRule>[0]): string => scalar(ctx, 0)

export const activationRules: Record<string, GradRule> = {
  // Gradient 0 at x = 0, as tfjs's relu (step) has it, so ONNX and tfjs saliency agree at the kink.
  Relu: (ctx, [g], wanted) => [wanted[0] ? where(ctx, ctx.emit('Greater', [x0(ctx), zero(ctx)])[0], g!, zero(ctx)) : undefined],
  LeakyRelu: (ctx, [g], wanted) => {
    if (!wanted[0]) return [undefined]
    const alpha = attrFloat(ctx.node, 'alpha', 0.01)
    return [where(ctx, ctx.emit('Greater', [x0(ctx), zero(ctx)])[0], g!, mul(ctx, g!, scalar(ctx, alpha)))]
  },
  Sigmoid: (ctx, [g], wanted) => {
    if (!wanted[0]) return [undefined]
    const y = y0(ctx)
    return [mul(ctx, g!, mul(ctx, y, sub(ctx, scalar(ctx, 1), y)))]
  },
  Tanh: (ctx, [g], wanted) => {
    if (!wanted[0]) return [undefined]
    const y = y0(ctx)
    return [mul(ctx, g!, sub(ctx, scalar(ctx, 1), mul(ctx, y, y)))]
  },
  HardSigmoid: (ctx, [g], wanted) => {
    if (!wanted[0]) return [undefined]
    const alpha = attrFloat(ctx.node, 'alpha', 0.2)
    // Slope alpha strictly inside the linear part, 0 where clamped (the output tells which).
    const y = y0(ctx)
    const inside = ctx.emit('And', [ctx.emit('Greater', [y, zero(ctx)])[0], ctx.emit('Less', [y, scalar(ctx, 1)])[0]])[0]
    return [where(ctx, inside, mul(ctx, g!, scalar(ctx, alpha)), zero(ctx))]
  },
  HardSwish: (ctx, [g], wanted) => {
    if (!wanted[0]) return [undefined]
    // y = x·relu6(x+3)/6: slope 0 below −3, 1 above 3, x/3 + 1/2 between.
    const x = x0(ctx)
    const mid = ctx.emit('Add', [mul(ctx, x, scalar(ctx, 1 / 3)), scalar(ctx, 0.5)])[0]
    const slope = where(ctx, ctx.emit('Less', [x, scalar(ctx, -3)])[0], zero(ctx), where(ctx, ctx.emit('Greater', [x, scalar(ctx, 3)])[0], scalar(ctx, 1), mid))
    return [mul(ctx, g!, slope)]
  },
  Clip: (ctx, [g], wanted) => {
    if (!wanted[0]) return ctx.node.inputs.map(() => undefined)
    if (wanted[1] || wanted[2]) throw new UnsupportedGradientError(ctx.node, 'input-dependent bounds are not supported')
    const x = x0(ctx)
    let lo: string | undefined
    let hi: string | undefined
    if (ctx.opset >= 11) {
      lo = ctx.node.inputs[1] || undefined
      hi = ctx.node.inputs[2] || undefined
    } else {
      if (ctx.node.attributes.min) lo = scalar(ctx, attrFloat(ctx.node, 'min', 0))
      if (ctx.node.attributes.max) hi = scalar(ctx, attrFloat(ctx.node, 'max', 0))
    }
    // Bounds inclusive, as tfjs's clipByValue gradient: a pixel exactly at the range limit still passes gradient.
    const conds: string[] = []
    if (lo) conds.push(ctx.emit('Not', [ctx.emit('Less', [x, lo])[0]])[0])
    if (hi) conds.push(ctx.emit('Not', [ctx.emit('Greater', [x, hi])[0]])[0])
    if (conds.length === 0) return [g, undefined, undefined]
    const cond = conds.length === 2 ? ctx.emit('And', conds)[0] : conds[0]
    return [where(ctx, cond, g!, zero(ctx)), undefined, undefined]
  },
  Softmax: (ctx, [g], wanted) => {
    if (!wanted[0]) return [undefined]
    const y = y0(ctx)
    const axes = softmaxAxes(ctx, ctx.shape(y).length)
    // dx = y ∘ (g − Σ_axes g∘y)
    const s = reduceSum(ctx, mul(ctx, g!, y), axes, true)
    return [mul(ctx, y, sub(ctx, g!, s))]
  },
  LogSoftmax: (ctx, [g], wanted) => {
    if (!wanted[0]) return [undefined]
    const y = y0(ctx)
    const axes = softmaxAxes(ctx, ctx.shape(y).length)
    // dx = g − softmax ∘ Σ_axes g
    const s = reduceSum(ctx, g!, axes, true)
    return [sub(ctx, g!, mul(ctx, ctx.emit('Exp', [y])[0], s))]
  }
}
