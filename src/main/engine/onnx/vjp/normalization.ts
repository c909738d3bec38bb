import { attrFloat, attrInt, tensorNumbers } from '../ir'
import { UnsupportedGradientError, type GradRule } from './types'

/**
 * dL/dx of BatchNormalization in inference mode: y = (x - mean) * scale / sqrt(var + eps) + B is a per-channel
 * affine map, so the gradient is dL/dy times a per-channel factor, folded here from the constant statistics.
 */
export const batchNormGrad: GradRule = (ctx, gradOutputs, wanted) => {
  const node = ctx.node
  if (attrInt(node, 'training_mode', 0) !== 0) throw new UnsupportedGradientError(node, 'training_mode=1 (batch statistics)')
  if (ctx.opset < 9 && attrInt(node, 'spatial', 1) !== 1) throw new UnsupportedGradientError(node, 'spatial=0')
  if (gradOutputs.slice(1).some((g) => g !== undefined)) throw new UnsupportedGradientError(node, 'gradients of the running statistics outputs')
  if (wanted.slice(1).some(Boolean)) throw new UnsupportedGradientError(node, 'scale, bias, mean or variance that depend on the differentiated input')
  const gy = gradOutputs[0]
  if (!wanted[0] || !gy) return node.inputs.map(() => undefined)
  const scale = ctx.constant(node.inputs[1])
  const variance = ctx.constant(node.inputs[4])
  if (!scale || !variance) throw new UnsupportedGradientError(node, 'scale or variance that are not constants')
  const eps = attrFloat(node, 'epsilon', 1e-5)
  const s = tensorNumbers(scale)
  const v = tensorNumbers(variance)
  // ONNX Runtime evaluates the factor in float32; the same rounding here keeps the gradient its exact adjoint.
  const factor = s.map((si, c) => Math.fround(si / Math.fround(Math.sqrt(Math.fround(v[c] + Math.fround(eps))))))
  const xShape = ctx.shape(node.inputs[0])
  const dims = xShape.map((d, i) => (i === 1 ? d : 1))
  if (factor.length !== xShape[1]) throw new UnsupportedGradientError(node, `${factor.length} scale values for ${xShape[1]} channels`)
  const dx = ctx.emit('Mul', [gy, ctx.float(factor, dims)])[0]
  return [dx, ...node.inputs.slice(1).map(() => undefined)]
}
