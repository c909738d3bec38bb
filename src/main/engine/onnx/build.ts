import { AppError } from '@common/errors'
import { type AttrValue, type IrAttribute, type IrDataType, type IrModel, type IrNode, type IrTensor, int64Tensor } from './ir'
import { topologicalOrder } from './fold'
import { gradRules } from './vjp'
import { type GradContext, UnsupportedGradientError } from './vjp/types'

/**
 * Reverse-mode differentiation of a folded ONNX graph with respect to its image input. The backward pass is
 * appended to the same graph as ordinary ONNX ops, so one ONNX Runtime session computes forward, objective and
 * input gradient.
 */

export interface UnsupportedOp {
  opType: string
  node: string
}

/** Ops whose output depends only on the shape of their input, so no gradient flows through them. */
const SHAPE_ONLY = new Set(['Shape', 'Size'])

/** Values whose data depend on `from` (forward reachability). */
function dependents(nodes: IrNode[], from: string): Set<string> {
  const s = new Set([from])
  for (const n of nodes) if (!SHAPE_ONLY.has(n.opType) && n.inputs.some((i) => s.has(i))) n.outputs.forEach((o) => s.add(o))
  return s
}

/** Values whose data `to` depends on (backward reachability; a Shape reads no data). */
function ancestors(nodes: IrNode[], to: string): Set<string> {
  const s = new Set([to])
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k]
    if (!SHAPE_ONLY.has(n.opType) && n.outputs.some((o) => s.has(o))) n.inputs.forEach((i) => s.add(i))
  }
  return s
}

/** Nodes on some path from `wrt` to `objective`, in topological order. */
export function nodesOnPath(model: IrModel, objective: string, wrt: string): IrNode[] {
  const nodes = topologicalOrder(model)
  const fwd = dependents(nodes, wrt)
  const bwd = ancestors(nodes, objective)
  return nodes.filter((n) => !SHAPE_ONLY.has(n.opType) && n.inputs.some((i) => fwd.has(i)) && n.outputs.some((o) => bwd.has(o)))
}

/** Every op on the gradient path that has no backward rule (all at once, so one import reports them all). */
export function unsupportedOnPath(model: IrModel, objective: string, wrt: string): UnsupportedOp[] {
  return nodesOnPath(model, objective, wrt)
    .filter((n) => (n.domain !== '' && n.domain !== 'ai.onnx') || !gradRules[n.opType])
    .map((n) => ({ opType: n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType, node: n.name }))
}

/** Attribute from a bare value: a whole number is an int, so float attributes with whole values need floatAttr. */
export function toAttribute(v: IrAttribute | AttrValue): IrAttribute {
  if (typeof v === 'object' && v !== null && 'kind' in v && 'value' in v) return v as IrAttribute
  if (typeof v === 'number') return { kind: Number.isInteger(v) ? 'int' : 'float', value: v }
  if (typeof v === 'string') return { kind: 'string', value: v }
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') return { kind: 'strings', value: v as string[] }
    return { kind: (v as number[]).every(Number.isInteger) ? 'ints' : 'floats', value: v as number[] }
  }
  return { kind: 'tensor', value: v as IrTensor }
}

export interface GradientSpec {
  /** Value whose elements are summed to the objective (a scalar, or e.g. a per-request loss [B]). */
  objective: string
  /** Graph input to differentiate. */
  wrt: string
  /** Name of the new graph output holding d(Σ objective)/d(wrt). */
  gradientName: string
}

/**
 * Appends the backward pass for `spec` to a copy of `model` and adds the gradient as a graph output.
 * `shapes` must hold the static shape of every forward value (see foldModel); rules read them.
 */
export function addInputGradient(model: IrModel, shapes: Map<string, number[]>, spec: GradientSpec, source = 'model'): IrModel {
  const { objective, wrt } = spec
  const missing = unsupportedOnPath(model, objective, wrt)
  if (missing.length > 0) {
    throw new AppError(
      'MODEL_UNSUPPORTED_OP',
      `${source}: no input gradient for ${missing.length === 1 ? 'op' : 'ops'} ${missing.map((m) => `${m.opType} (node '${m.node}')`).join(', ')}`,
      { unsupported: missing }
    )
  }
  if (model.opset < 9) {
    // Where, Expand and the boolean comparisons the rules emit need opset 9; exporters have defaulted to ≥ 9 for years.
    throw new AppError('MODEL_FILE_INVALID', `${source}: opset ${model.opset} is too old for input gradients; re-export with opset 9 or later`)
  }
  const path = nodesOnPath(model, objective, wrt)
  if (path.length === 0) throw new AppError('MODEL_NO_GRADIENT_PATH', `${source}: '${objective}' does not depend on the input '${wrt}'`)

  const g = model.graph
  const out: IrModel = { ...model, graph: { ...g, nodes: [...g.nodes], outputs: [...g.outputs], initializers: new Map(g.initializers) } }
  const names = new Set<string>([...g.inputs.map((i) => i.name), ...g.initializers.keys(), ...g.nodes.flatMap((n) => [...n.outputs, n.name])])
  const fresh = (base: string): string => {
    let name = base
    for (let k = 1; names.has(name); k++) name = `${base}_${k}`
    names.add(name)
    return name
  }
  const inputInfo = g.inputs.find((i) => i.name === wrt)
  if (!inputInfo) throw new AppError('MODEL_FILE_INVALID', `${source}: '${wrt}' is not a graph input`)
  // Constants the rules make take the differentiated input's float type, so a float64 graph (tests) stays float64.
  const floatType: IrDataType = inputInfo.dataType === 'float64' ? 'float64' : 'float32'
  const fwd = dependents(topologicalOrder(model), wrt)

  const pending = new Map<string, string[]>()
  const addGrad = (value: string, grad: string): void => {
    const list = pending.get(value)
    if (list) list.push(grad)
    else pending.set(value, [grad])
  }
  let current: IrNode = path[0]
  const constantTensor = (t: IrTensor): string => {
    const name = fresh(`${current.name}/grad/const`)
    out.graph.initializers.set(name, t)
    return name
  }
  const emit = (opType: string, inputs: string[], attributes: Record<string, IrAttribute | AttrValue> = {}, outputCount = 1): string[] => {
    const nodeName = fresh(`${current.name}/grad/${opType}`)
    const outputs = Array.from({ length: outputCount }, (_, i) => fresh(`${nodeName}:${i}`))
    const attrs: Record<string, IrAttribute> = {}
    for (const [k, v] of Object.entries(attributes)) attrs[k] = toAttribute(v)
    out.graph.nodes.push({ name: nodeName, opType, domain: '', inputs, outputs, attributes: attrs })
    return outputs
  }
  const gradOf = (value: string): string | undefined => {
    const list = pending.get(value)
    if (!list || list.length === 0) return undefined
    if (list.length === 1) return list[0]
    const [sum] = emit('Sum', list)
    pending.set(value, [sum])
    return sum
  }

  const seedShape = shapes.get(objective)
  if (!seedShape) throw new AppError('INTERNAL', `no shape for objective '${objective}'`)
  current = path[path.length - 1]
  const ones = floatType === 'float64' ? new Float64Array(seedShape.reduce((a, b) => a * b, 1)).fill(1) : new Float32Array(seedShape.reduce((a, b) => a * b, 1)).fill(1)
  addGrad(objective, constantTensor({ dataType: floatType, dims: seedShape, data: ones }))

  for (let k = path.length - 1; k >= 0; k--) {
    const node = path[k]
    current = node
    const gradOutputs = node.outputs.map((o) => gradOf(o))
    if (gradOutputs.every((x) => x === undefined)) continue
    const wanted = node.inputs.map((i) => i !== '' && fwd.has(i))
    const ctx: GradContext = {
      node,
      opset: model.opset,
      shape(value) {
        const s = shapes.get(value)
        if (!s) throw new AppError('INTERNAL', `node '${node.name}' (${node.opType}): no static shape for '${value}'; fold the model first`)
        return s
      },
      constant: (value) => g.initializers.get(value),
      emit,
      constantTensor,
      int64: (values) => constantTensor(int64Tensor(values)),
      float: (values, dims) =>
        constantTensor({ dataType: floatType, dims, data: floatType === 'float64' ? Float64Array.from(values) : Float32Array.from(values) })
    }
    let grads: (string | undefined)[]
    try {
      grads = gradRules[node.opType](ctx, gradOutputs, wanted)
    } catch (e) {
      if (e instanceof UnsupportedGradientError) throw new AppError('MODEL_UNSUPPORTED_OP', `${source}: ${e.message}`, { node: node.name, opType: node.opType })
      throw e
    }
    node.inputs.forEach((input, j) => {
      if (wanted[j] && grads[j] !== undefined) addGrad(input, grads[j]!)
    })
  }

  const grad = gradOf(wrt)
  if (!grad) throw new AppError('MODEL_NO_GRADIENT_PATH', `${source}: no gradient reaches '${wrt}' from '${objective}'`)
  current = path[0]
  out.graph.nodes.push({ name: fresh(`${spec.gradientName}/output`), opType: 'Identity', domain: '', inputs: [grad], outputs: [spec.gradientName], attributes: {} })
  names.add(spec.gradientName)
  out.graph.outputs.push({ name: spec.gradientName, dataType: floatType, shape: shapes.get(wrt) ?? null })
  return out
}
