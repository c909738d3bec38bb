import { attrFloat, attrInt } from '../ir'
import { type GradContext, type GradRule } from './types'
import { mul, reshape, scalar, transpose, unbroadcast } from './util'

const swapLast = (rank: number): number[] => {
  const p = Array.from({ length: rank }, (_, i) => i)
  ;[p[rank - 2], p[rank - 1]] = [p[rank - 1], p[rank - 2]]
  return p
}

/**
 * MatMul with numpy semantics: 1-D operands are promoted to matrices (and the gradient reshaped back), batch
 * dimensions broadcast (and their gradient summed back).
 */
const matMul: GradRule = (ctx, [g], wanted) => {
  const [a, b] = ctx.node.inputs
  const sa = ctx.shape(a)
  const sb = ctx.shape(b)
  const ea = sa.length === 1 ? [1, sa[0]] : sa
  const eb = sb.length === 1 ? [sb[0], 1] : sb
  const batch = (s: number[]): number[] => s.slice(0, -2)
  const ba = batch(ea)
  const bb = batch(eb)
  const rank = Math.max(ea.length, eb.length)
  const full: number[] = []
  for (let i = 0; i < rank - 2; i++) {
    const da = ba[i - (rank - 2 - ba.length)] ?? 1
    const db = bb[i - (rank - 2 - bb.length)] ?? 1
    full.push(Math.max(da, db))
  }
  const gShape = [...full, ea[ea.length - 2], eb[eb.length - 1]]
  const g2 = sa.length === 1 || sb.length === 1 ? reshape(ctx, g!, gShape) : g!
  const a2 = sa.length === 1 ? reshape(ctx, a, ea) : a
  const b2 = sb.length === 1 ? reshape(ctx, b, eb) : b
  const out: (string | undefined)[] = [undefined, undefined]
  if (wanted[0]) {
    const d = ctx.emit('MatMul', [g2, transpose(ctx, b2, swapLast(eb.length))])[0]
    out[0] = reshape(ctx, unbroadcast(ctx, d, [...full, ea[ea.length - 2], ea[ea.length - 1]], ea), sa)
  }
  if (wanted[1]) {
    const d = ctx.emit('MatMul', [transpose(ctx, a2, swapLast(ea.length)), g2])[0]
    out[1] = reshape(ctx, unbroadcast(ctx, d, [...full, eb[eb.length - 2], eb[eb.length - 1]], eb), sb)
  }
  return out
}

function scaled(ctx: GradContext, x: string, alpha: number): string {
  return alpha === 1 ? x : mul(ctx, x, scalar(ctx, alpha))
}

/** Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A, B' likewise. */
const gemm: GradRule = (ctx, [g], wanted) => {
  const n = ctx.node
  const [a, b, c] = n.inputs
  const alpha = attrFloat(n, 'alpha', 1)
  const beta = attrFloat(n, 'beta', 1)
  const transA = attrInt(n, 'transA', 0) === 1
  const transB = attrInt(n, 'transB', 0) === 1
  const t = (x: string): string => transpose(ctx, x, [1, 0])
  const mm = (x: string, y: string): string => ctx.emit('MatMul', [x, y])[0]
  const out: (string | undefined)[] = n.inputs.map(() => undefined)
  if (wanted[0]) {
    // dA' = α·g·B'ᵀ; dA = transA ? dA'ᵀ = α·B'·gᵀ
    const bp = transB ? t(b) : b
    out[0] = scaled(ctx, transA ? mm(bp, t(g!)) : mm(g!, t(bp)), alpha)
  }
  if (wanted[1]) {
    // dB' = α·A'ᵀ·g; dB = transB ? dB'ᵀ = α·gᵀ·A'
    const ap = transA ? t(a) : a
    out[1] = scaled(ctx, transB ? mm(t(g!), ap) : mm(t(ap), g!), alpha)
  }
  if (c && wanted[2]) out[2] = unbroadcast(ctx, scaled(ctx, g!, beta), ctx.shape(n.outputs[0]), ctx.shape(c))
  return out
}

export const linearRules: Record<string, GradRule> = { MatMul: matMul, Gemm: gemm }
