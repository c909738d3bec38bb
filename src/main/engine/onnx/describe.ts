import { nodesOnPath, type UnsupportedOp, unsupportedOnPath } from './build'
import type { IrModel } from './ir'

/** What an ONNX file says about itself, before any size is fixed: enough to fill in a model description. */
export interface GraphDescription {
  input: { name: string; shape: (number | string | null)[] | null }
  /** From the input shape: channels 1 or 3 at axis 1 is a PyTorch (NCHW) export, at axis 3 a TensorFlow (NHWC) one. */
  layout: 'NCHW' | 'NHWC' | null
  output: { name: string; shape: (number | string | null)[] | null }
  opset: number
  producer: string
  /** Op types with their node counts, most frequent first. */
  ops: { opType: string; count: number }[]
}

export function guessLayout(shape: (number | string | null)[] | null): 'NCHW' | 'NHWC' | null {
  if (!shape || shape.length !== 4) return null
  const isChannels = (d: number | string | null): boolean => d === 1 || d === 3
  if (isChannels(shape[1]) && !isChannels(shape[3])) return 'NCHW'
  if (isChannels(shape[3]) && !isChannels(shape[1])) return 'NHWC'
  // A 3×…×3 or 1×…×1 input is ambiguous; PyTorch exports are by far the common case.
  if (isChannels(shape[1])) return 'NCHW'
  return null
}

export function describeGraph(model: IrModel): GraphDescription {
  const g = model.graph
  const counts = new Map<string, number>()
  for (const n of g.nodes) {
    const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType
    counts.set(op, (counts.get(op) ?? 0) + 1)
  }
  const input = g.inputs[0]
  const output = g.outputs[0]
  return {
    input: { name: input?.name ?? '', shape: input?.shape ?? null },
    layout: guessLayout(input?.shape ?? null),
    output: { name: output?.name ?? '', shape: output?.shape ?? null },
    opset: model.opset,
    producer: model.producer,
    ops: [...counts].map(([opType, count]) => ({ opType, count })).sort((a, b) => b.count - a.count || a.opType.localeCompare(b.opType))
  }
}

/**
 * Ops on a path from the (first) input to the (first) output that have no input-gradient rule, all of them at
 * once. The Shape-derived arithmetic that feeds Resize/Reshape is off the path (it carries no gradient and is
 * folded away once the input size is fixed), so it is never reported.
 */
export function unsupportedOps(model: IrModel): UnsupportedOp[] {
  const g = model.graph
  if (g.inputs.length === 0 || g.outputs.length === 0) return []
  return unsupportedOnPath(model, g.outputs[0].name, g.inputs[0].name)
}

/** One import check's outcome; the same shape as ModelCheck of the model-import contract. */
export interface GradientCheck {
  id: 'unsupported-op' | 'gradient-path'
  status: 'ok' | 'error'
  message: string
  code?: string
  node?: string
}

/**
 * The import checks only the gradient builder can make: every op on the input→output path has a backward rule
 * (one error per op, naming op and node) and such a path exists at all.
 */
export function gradientChecks(model: IrModel): GradientCheck[] {
  const g = model.graph
  if (g.inputs.length === 0 || g.outputs.length === 0) {
    return [{ id: 'gradient-path', status: 'error', message: 'the graph has no input or no output', code: 'MODEL_NO_GRADIENT_PATH' }]
  }
  const input = g.inputs[0].name
  const output = g.outputs[0].name
  const checks: GradientCheck[] = []
  const missing = unsupportedOps(model)
  for (const m of missing) {
    checks.push({ id: 'unsupported-op', status: 'error', message: `op ${m.opType} (node '${m.node}') has no input-gradient rule`, code: 'MODEL_UNSUPPORTED_OP', node: m.node })
  }
  if (missing.length === 0) checks.push({ id: 'unsupported-op', status: 'ok', message: 'every op on the gradient path has a backward rule' })
  checks.push(
    nodesOnPath(model, output, input).length > 0
      ? { id: 'gradient-path', status: 'ok', message: `'${output}' depends on '${input}'` }
      : { id: 'gradient-path', status: 'error', message: `output '${output}' does not depend on input '${input}': no gradient can reach the image`, code: 'MODEL_NO_GRADIENT_PATH' }
  )
  return checks
}
