import * as ort from 'onnxruntime-node'
import onnxProto from 'onnx-proto'
import { AppError } from '@common/errors'
import { encodeModel, type IrDataType, type IrModel, type IrNode, type IrTensor } from './ir'

// onnx-proto is CommonJS: Node's ESM loader (tsx, the built app) sees only its default export.
const { onnx } = onnxProto

/**
 * Fixing the input size and folding everything that does not depend on the image.
 *
 * Why a probe run rather than a TypeScript shape inference: PyTorch exports compute Resize sizes and Reshape
 * targets with Shape/Gather/Slice/Unsqueeze/Concat/Cast/Div/Floor/... chains, sometimes ConstantOfShape, Range,
 * Where or Equal; evaluating those and inferring shapes for every op a model may hold would duplicate ONNX
 * Runtime's own kernels (and their corner cases). One run of the model on a probe input, with every intermediate
 * value made a graph output, gives the exact shape and element type of every value and the data of every
 * input-independent one, computed by the same runtime that will run the graphs. ONNX Runtime accepts graph outputs
 * without a declared type (it takes the inferred one), so no element-type inference is needed either.
 * The cost is one forward pass that keeps all intermediates alive: fine at the batch and sizes saliency uses.
 */

export interface FoldedModel {
  /** One fixed-size input, no nodes whose outputs are input-independent, every Constant an initializer. */
  model: IrModel
  /** Static shape of every value of the folded graph (inputs, node outputs, initializers). */
  shapes: Map<string, number[]>
  /** Element type of every value. */
  types: Map<string, IrDataType>
}

/** Ops whose output depends on the input's shape only, which is fixed here. */
const SHAPE_ONLY = new Set(['Shape', 'Size'])

const ORT_TO_IR: Record<string, IrDataType> = {
  float32: 'float32',
  float64: 'float64',
  int64: 'int64',
  int32: 'int32',
  bool: 'bool',
  uint8: 'uint8',
  int8: 'int8'
}

/** A Constant node's value as a tensor, whatever attribute form it uses. */
export function constantNodeValue(node: IrNode): IrTensor {
  const [key, a] = Object.entries(node.attributes)[0] ?? []
  if (!a) throw new AppError('MODEL_FILE_INVALID', `Constant node '${node.name}' has no value`)
  switch (key) {
    case 'value':
      return a.value as IrTensor
    case 'value_float':
      return { dataType: 'float32', dims: [], data: Float32Array.of(a.value as number) }
    case 'value_floats':
      return { dataType: 'float32', dims: [(a.value as number[]).length], data: Float32Array.from(a.value as number[]) }
    case 'value_int':
      return { dataType: 'int64', dims: [], data: BigInt64Array.of(BigInt(a.value as number)) }
    case 'value_ints':
      return { dataType: 'int64', dims: [(a.value as number[]).length], data: BigInt64Array.from((a.value as number[]).map((v) => BigInt(v))) }
    default:
      throw new AppError('MODEL_FILE_INVALID', `Constant node '${node.name}': attribute '${key}' (sparse or string constants) is not supported`)
  }
}

function cloneModel(model: IrModel): IrModel {
  const g = model.graph
  return {
    ...model,
    otherOpsets: [...model.otherOpsets],
    graph: {
      name: g.name,
      nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes: { ...n.attributes } })),
      inputs: g.inputs.map((v) => ({ ...v, shape: v.shape ? [...v.shape] : null })),
      outputs: g.outputs.map((v) => ({ ...v, shape: v.shape ? [...v.shape] : null })),
      initializers: new Map(g.initializers)
    }
  }
}

/** Constant nodes become initializers; Identity nodes are bypassed unless they name a graph output. */
function inlineConstantsAndIdentities(model: IrModel): void {
  const g = model.graph
  const graphOutputs = new Set(g.outputs.map((o) => o.name))
  const rename = new Map<string, string>()
  const kept: IrNode[] = []
  for (const node of g.nodes) {
    node.inputs = node.inputs.map((i) => rename.get(i) ?? i)
    if (node.opType === 'Constant' && !graphOutputs.has(node.outputs[0])) {
      g.initializers.set(node.outputs[0], constantNodeValue(node))
      continue
    }
    if (node.opType === 'Identity' && !graphOutputs.has(node.outputs[0])) {
      rename.set(node.outputs[0], node.inputs[0])
      continue
    }
    kept.push(node)
  }
  g.nodes = kept
}

/** Topological order of the nodes (ONNX requires it, but a tolerant reader costs little). */
export function topologicalOrder(model: IrModel): IrNode[] {
  const g = model.graph
  const available = new Set<string>([...g.inputs.map((i) => i.name), ...g.initializers.keys(), ''])
  const pending = [...g.nodes]
  const order: IrNode[] = []
  while (pending.length > 0) {
    const before = pending.length
    for (let i = 0; i < pending.length; ) {
      const n = pending[i]
      if (n.inputs.every((x) => available.has(x))) {
        order.push(n)
        n.outputs.forEach((o) => available.add(o))
        pending.splice(i, 1)
      } else i++
    }
    if (pending.length === before) {
      const n = pending[0]
      const missing = n.inputs.filter((x) => !available.has(x))
      throw new AppError('MODEL_FILE_INVALID', `node '${n.name}' (${n.opType}) uses ${missing.map((m) => `'${m}'`).join(', ')}, which nothing produces (or the graph has a cycle)`, {
        node: n.name
      })
    }
  }
  return order
}

function probeInput(dims: number[]): Float32Array {
  // Values in [0, 1): inside every normalisation range a model is likely to see, so a probe NaN means a broken model.
  const n = dims.reduce((a, b) => a * b, 1)
  const x = new Float32Array(n)
  let s = 12345
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0
    x[i] = (s >>> 8) / 16777216
  }
  return x
}

function tensorFromOrt(t: ort.Tensor, name: string): IrTensor {
  const dataType = ORT_TO_IR[t.type]
  if (!dataType) throw new AppError('MODEL_FILE_INVALID', `value '${name}' has element type ${t.type}, which Context Lens cannot handle`)
  const src = t.data as ArrayLike<number | bigint>
  const data = (() => {
    switch (dataType) {
      case 'float32':
        return Float32Array.from(src as ArrayLike<number>)
      case 'float64':
        return Float64Array.from(src as ArrayLike<number>)
      case 'int64':
        return BigInt64Array.from(src as ArrayLike<bigint>)
      case 'int32':
        return Int32Array.from(src as ArrayLike<number>)
      case 'int8':
        return Int8Array.from(src as ArrayLike<number>)
      default:
        return Uint8Array.from(src as ArrayLike<number>, (v) => Number(v))
    }
  })()
  return { dataType, dims: [...t.dims], data }
}

/** Runs the model once at `dims` with `outputs` as extra graph outputs. */
async function probe(model: IrModel, outputs: string[], dims: number[], threads: number, where: string): Promise<Record<string, ort.Tensor>> {
  const input = model.graph.inputs[0]
  const saved = input.shape
  input.shape = dims
  let session: ort.InferenceSession | undefined
  try {
    session = await ort.InferenceSession.create(encodeWithProbeOutputs(model, outputs), { graphOptimizationLevel: 'disabled', intraOpNumThreads: threads })
    const x = probeInput(dims)
    const feed = input.dataType === 'float64' ? new ort.Tensor('float64', Float64Array.from(x), dims) : new ort.Tensor('float32', x, dims)
    return await session.run({ [input.name]: feed })
  } catch (e) {
    throw new AppError('MODEL_FILE_INVALID', `${where}: ONNX Runtime cannot run the model at input size ${dims.join('×')}: ${(e as Error).message}`)
  } finally {
    input.shape = saved
    await session?.release()
  }
}

/** Encodes the model with extra, untyped graph outputs (ONNX Runtime infers their types). */
function encodeWithProbeOutputs(model: IrModel, extra: string[]): Uint8Array {
  const proto = onnx.ModelProto.decode(encodeModel(model))
  const g = proto.graph!
  const have = new Set((g.output ?? []).map((o) => o.name))
  for (const name of extra) if (!have.has(name)) g.output!.push(onnx.ValueInfoProto.create({ name }))
  return onnx.ModelProto.encode(proto).finish()
}

export interface FoldOptions {
  /** Name used in error messages (the model file). */
  source?: string
  intraOpNumThreads?: number
}

/**
 * Returns a copy of the model with its single input fixed to `inputDims` and every input-independent value
 * folded into an initializer; every value then has a static shape.
 */
export async function foldModel(original: IrModel, inputDims: number[], options: FoldOptions = {}): Promise<FoldedModel> {
  const where = options.source ?? 'model'
  const model = cloneModel(original)
  const g = model.graph
  if (g.inputs.length !== 1) {
    throw new AppError('MODEL_FILE_INVALID', `${where}: the graph has ${g.inputs.length} inputs (${g.inputs.map((i) => i.name).join(', ')}); Context Lens needs exactly one image input`)
  }
  const input = g.inputs[0]
  // float64 inputs are for finite-difference tests of the gradient rules.
  if (input.dataType !== 'float32' && input.dataType !== 'float64') {
    throw new AppError('MODEL_FILE_INVALID', `${where}: input '${input.name}' is ${input.dataType}, expected float32`)
  }
  if (input.shape && input.shape.length !== inputDims.length) {
    throw new AppError('MODEL_FILE_INVALID', `${where}: input '${input.name}' has rank ${input.shape.length}, expected ${inputDims.length}`)
  }
  input.shape?.forEach((d, i) => {
    if (typeof d === 'number' && d !== inputDims[i]) {
      throw new AppError('REQUEST_SIZE_MISMATCH', `${where}: input '${input.name}' has fixed size ${input.shape!.join('×')}, asked for ${inputDims.join('×')}`)
    }
  })
  input.shape = [...inputDims]
  for (const o of g.outputs) o.shape = null

  inlineConstantsAndIdentities(model)
  g.nodes = topologicalOrder(model)

  const dependent = new Set<string>([input.name])
  for (const n of g.nodes) {
    if (!SHAPE_ONLY.has(n.opType) && n.inputs.some((i) => dependent.has(i))) n.outputs.forEach((o) => dependent.add(o))
  }

  const probed = g.nodes.flatMap((n) => n.outputs).filter((o) => o !== '')
  // Keep the nodes that depend on the image; the independent values they (or the graph outputs) read become initializers.
  const kept = g.nodes.filter((n) => n.outputs.some((o) => dependent.has(o)))
  const needed = new Set<string>([...kept.flatMap((n) => n.inputs), ...g.outputs.map((o) => o.name)])
  const foldedValues = [...needed].filter((n) => n !== '' && n !== input.name && !dependent.has(n) && !g.initializers.has(n))

  const run = (outputs: string[], dims: number[]): Promise<Record<string, ort.Tensor>> => probe(model, outputs, dims, options.intraOpNumThreads ?? 1, where)
  const batch = inputDims[0]
  const dimsAt = (b: number): number[] => [b, ...inputDims.slice(1)]
  let all: Record<string, ort.Tensor>
  let probedShapes: Map<string, number[]> | undefined
  let results: Record<string, ort.Tensor>
  if (inputDims.length === 4 && batch > 3) {
    // Images only (rank 4, batch first). Every intermediate at once costs memory in proportion to the batch
    // (GBs for a 512×1024 model at batch 16). So: all values at batches 2 and 3, their shapes extrapolated
    // (dimensions are affine in the batch: the batch axis itself, or a flattened batch×channels), and only the
    // folded values, which are small, at the real batch. Not batch 1: an axis-less Squeeze drops the batch axis there.
    all = await run(probed, dimsAt(2))
    const three = await run(probed, dimsAt(3))
    probedShapes = new Map()
    for (const name of probed) {
      const d2 = all[name]?.dims
      const d3 = three[name]?.dims
      if (!d2 || !d3) continue
      if (d2.length !== d3.length) {
        probedShapes = undefined
        break
      }
      probedShapes.set(name, d2.map((d, i) => d + (batch - 2) * (d3[i] - d)))
    }
    results = probedShapes ? (foldedValues.length > 0 ? await run(foldedValues, inputDims) : {}) : await run(probed, inputDims)
    if (!probedShapes) all = results
  } else {
    all = await run(probed, inputDims)
    results = all
  }

  const shapes = new Map<string, number[]>()
  const types = new Map<string, IrDataType>()
  shapes.set(input.name, [...inputDims])
  types.set(input.name, input.dataType)
  for (const [name, t] of g.initializers) {
    shapes.set(name, [...t.dims])
    types.set(name, t.dataType)
  }
  for (const name of probed) {
    const t = all[name]
    if (!t) continue
    shapes.set(name, probedShapes?.get(name) ?? [...t.dims])
    const dt = ORT_TO_IR[t.type]
    if (dt) types.set(name, dt)
  }
  for (const name of foldedValues) if (results[name]) shapes.set(name, [...results[name].dims])

  const initializers = new Map<string, IrTensor>()
  for (const name of needed) {
    if (name === '' || name === input.name || dependent.has(name)) continue
    const init = g.initializers.get(name)
    if (init) initializers.set(name, init)
    else if (results[name]) initializers.set(name, tensorFromOrt(results[name], name))
  }
  // The first non-finite value in graph order is where the model breaks; later ones only inherit it.
  for (const node of g.nodes) {
    for (const name of node.outputs) {
      const t = all[name]
      if (!t || !dependent.has(name) || (t.type !== 'float32' && t.type !== 'float64')) continue
      const d = t.data as Float32Array
      for (let i = 0; i < d.length; i++) {
        if (!Number.isFinite(d[i])) {
          throw new AppError('MODEL_FILE_INVALID', `${where}: value '${name}' of node '${node.name}' (${node.opType}) is NaN or infinite on a probe input in [0, 1)`, {
            node: node.name
          })
        }
      }
    }
  }
  g.nodes = kept
  g.initializers = initializers
  for (const o of g.outputs) {
    o.shape = shapes.get(o.name) ?? null
    o.dataType = types.get(o.name) ?? o.dataType
  }
  return { model, shapes, types }
}
