import onnxProto from 'onnx-proto'
// onnx-proto is CommonJS: Node's ESM loader (tsx, the built app) sees only its default export, not `onnx`.
import onnx = onnxProto.onnx

/**
 * A plain, mutable view of an ONNX graph. The protobuf objects are awkward to rewrite (Long integers, raw_data
 * or typed fields, attribute type tags), and every pass here (folding, gradient building) rewrites graphs, so
 * they work on this form and only decodeModel/encodeModel touch protobuf.
 */

export type IrDataType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8'

export type IrData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array

export interface IrTensor {
  dataType: IrDataType
  dims: number[]
  data: IrData
}

export type AttrValue = number | string | number[] | string[] | IrTensor

/** The attribute's declared kind is kept so that an int attribute whose value happens to be whole survives encoding. */
export interface IrAttribute {
  kind: 'float' | 'int' | 'string' | 'tensor' | 'floats' | 'ints' | 'strings'
  value: AttrValue
}

export interface IrNode {
  name: string
  opType: string
  domain: string
  inputs: string[]
  outputs: string[]
  attributes: Record<string, IrAttribute>
}

export interface IrValueInfo {
  name: string
  dataType: IrDataType
  /** A number for a fixed dimension, a string for a named symbolic one, null when unknown. */
  shape: (number | string | null)[] | null
}

export interface IrGraph {
  name: string
  nodes: IrNode[]
  inputs: IrValueInfo[]
  outputs: IrValueInfo[]
  initializers: Map<string, IrTensor>
}

export interface IrModel {
  graph: IrGraph
  /** Default-domain opset version. */
  opset: number
  /** Other imported domains, kept as they were. */
  otherOpsets: { domain: string; version: number }[]
  irVersion: number
  producer: string
}

const DT = onnx.TensorProto.DataType
const TO_IR: Partial<Record<number, IrDataType>> = {
  [DT.FLOAT]: 'float32',
  [DT.DOUBLE]: 'float64',
  [DT.INT64]: 'int64',
  [DT.INT32]: 'int32',
  [DT.BOOL]: 'bool',
  [DT.UINT8]: 'uint8',
  [DT.INT8]: 'int8'
}
const FROM_IR: Record<IrDataType, number> = {
  float32: DT.FLOAT,
  float64: DT.DOUBLE,
  int64: DT.INT64,
  int32: DT.INT32,
  bool: DT.BOOL,
  uint8: DT.UINT8,
  int8: DT.INT8
}

export class OnnxFormatError extends Error {}

export function irDataType(code: number, where: string): IrDataType {
  const t = TO_IR[code]
  if (!t) throw new OnnxFormatError(`${where}: tensor data type ${DT[code] ?? code} is not supported`)
  return t
}

export function onnxDataType(t: IrDataType): number {
  return FROM_IR[t]
}

const num = (v: number | { toNumber(): number } | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber())

export function elementCount(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1)
}

function allocate(dataType: IrDataType, n: number): IrData {
  switch (dataType) {
    case 'float32':
      return new Float32Array(n)
    case 'float64':
      return new Float64Array(n)
    case 'int64':
      return new BigInt64Array(n)
    case 'int32':
      return new Int32Array(n)
    case 'bool':
    case 'uint8':
      return new Uint8Array(n)
    case 'int8':
      return new Int8Array(n)
  }
}

export function decodeTensor(t: onnx.ITensorProto, where = t.name ?? 'tensor'): IrTensor {
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new OnnxFormatError(`${where}: weights stored in an external data file are not supported; export with the weights inside the .onnx file`)
  }
  const dataType = irDataType(t.dataType ?? 0, where)
  const dims = (t.dims ?? []).map(num)
  const n = elementCount(dims)
  const data = allocate(dataType, n)
  if (t.rawData && t.rawData.length > 0) {
    const raw = t.rawData
    // Copy to an aligned buffer: raw_data slices of a decoded model are views at arbitrary byte offsets.
    const bytes = new Uint8Array(raw.length)
    bytes.set(raw)
    const view = new (data.constructor as new (b: ArrayBuffer, o: number, l: number) => IrData)(bytes.buffer, 0, n)
    ;(data as Float32Array).set(view as Float32Array)
  } else if (dataType === 'float32') {
    ;(data as Float32Array).set(t.floatData ?? [])
  } else if (dataType === 'float64') {
    ;(data as Float64Array).set(t.doubleData ?? [])
  } else if (dataType === 'int64') {
    const src = t.int64Data ?? []
    for (let i = 0; i < src.length; i++) (data as BigInt64Array)[i] = BigInt(num(src[i]))
  } else {
    // int32, bool, uint8, int8 all live in int32_data.
    const src = t.int32Data ?? []
    for (let i = 0; i < src.length; i++) (data as Int32Array)[i] = src[i]
  }
  return { dataType, dims, data }
}

export function encodeTensor(name: string, t: IrTensor): onnx.ITensorProto {
  const d = t.data
  return {
    name,
    dims: t.dims,
    dataType: FROM_IR[t.dataType],
    rawData: new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength))
  }
}

function decodeAttribute(a: onnx.IAttributeProto, where: string): IrAttribute | null {
  const AT = onnx.AttributeProto.AttributeType
  switch (a.type) {
    case AT.FLOAT:
      return { kind: 'float', value: a.f ?? 0 }
    case AT.INT:
      return { kind: 'int', value: num(a.i) }
    case AT.STRING:
      return { kind: 'string', value: new TextDecoder().decode(a.s ?? new Uint8Array()) }
    case AT.TENSOR:
      return { kind: 'tensor', value: decodeTensor(a.t ?? {}, `${where}.${a.name}`) }
    case AT.FLOATS:
      return { kind: 'floats', value: [...(a.floats ?? [])] }
    case AT.INTS:
      return { kind: 'ints', value: (a.ints ?? []).map(num) }
    case AT.STRINGS:
      return { kind: 'strings', value: (a.strings ?? []).map((s) => new TextDecoder().decode(s)) }
    default:
      // Subgraph attributes (If/Loop/Scan bodies) are kept out of the IR; such ops are refused by the op check.
      return null
  }
}

function encodeAttribute(name: string, a: IrAttribute): onnx.IAttributeProto {
  const AT = onnx.AttributeProto.AttributeType
  switch (a.kind) {
    case 'float':
      return { name, type: AT.FLOAT, f: a.value as number }
    case 'int':
      return { name, type: AT.INT, i: a.value as number }
    case 'string':
      return { name, type: AT.STRING, s: new TextEncoder().encode(a.value as string) }
    case 'tensor':
      return { name, type: AT.TENSOR, t: encodeTensor('', a.value as IrTensor) }
    case 'floats':
      return { name, type: AT.FLOATS, floats: a.value as number[] }
    case 'ints':
      return { name, type: AT.INTS, ints: a.value as number[] }
    case 'strings':
      return { name, type: AT.STRINGS, strings: (a.value as string[]).map((s) => new TextEncoder().encode(s)) }
  }
}

function decodeValueInfo(v: onnx.IValueInfoProto): IrValueInfo {
  const tt = v.type?.tensorType
  const dims = tt?.shape?.dim
  return {
    name: v.name ?? '',
    dataType: TO_IR[tt?.elemType ?? 0] ?? 'float32',
    shape: dims ? dims.map((d) => (d.dimValue != null && num(d.dimValue) > 0 ? num(d.dimValue) : d.dimParam ? d.dimParam : null)) : null
  }
}

function encodeValueInfo(v: IrValueInfo): onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: FROM_IR[v.dataType],
        shape: v.shape ? { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) } : undefined
      }
    }
  }
}

export function decodeModel(bytes: Uint8Array): IrModel {
  let m: onnx.ModelProto
  try {
    m = onnx.ModelProto.decode(bytes)
  } catch (e) {
    throw new OnnxFormatError(`not an ONNX model (${(e as Error).message})`)
  }
  const g = m.graph
  if (!g) throw new OnnxFormatError('the ONNX file holds no graph')
  const initializers = new Map<string, IrTensor>()
  for (const t of g.initializer ?? []) initializers.set(t.name ?? '', decodeTensor(t))
  const nodes: IrNode[] = (g.node ?? []).map((n, i) => {
    const name = n.name || `${n.opType}_${i}`
    const attributes: Record<string, IrAttribute> = {}
    for (const a of n.attribute ?? []) {
      const d = decodeAttribute(a, name)
      if (d) attributes[a.name ?? ''] = d
    }
    return { name, opType: n.opType ?? '', domain: n.domain ?? '', inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attributes }
  })
  const opsets = (m.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: num(o.version) }))
  const main = opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')
  return {
    graph: {
      name: g.name ?? 'graph',
      nodes,
      // Initializers may also be listed as graph inputs (older exporters); they are not inputs a caller feeds.
      inputs: (g.input ?? []).map(decodeValueInfo).filter((v) => !initializers.has(v.name)),
      outputs: (g.output ?? []).map(decodeValueInfo),
      initializers
    },
    opset: main?.version ?? 0,
    otherOpsets: opsets.filter((o) => o !== main),
    irVersion: num(m.irVersion),
    producer: m.producerName ?? ''
  }
}

export function encodeModel(model: IrModel): Uint8Array {
  const g = model.graph
  const proto: onnx.IModelProto = {
    irVersion: model.irVersion || 8,
    producerName: model.producer || 'context-lens',
    opsetImport: [{ domain: '', version: model.opset }, ...model.otherOpsets],
    graph: {
      name: g.name,
      node: g.nodes.map((n) => ({
        name: n.name,
        opType: n.opType,
        domain: n.domain || undefined,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes).map(([k, a]) => encodeAttribute(k, a))
      })),
      input: g.inputs.map(encodeValueInfo),
      output: g.outputs.map(encodeValueInfo),
      initializer: [...g.initializers].map(([name, t]) => encodeTensor(name, t))
    }
  }
  return onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish()
}

/** Attribute accessors with the ONNX defaults spelled at the call site. */
export function attrInt(node: IrNode, name: string, fallback: number): number {
  const a = node.attributes[name]
  return a ? (a.value as number) : fallback
}
export function attrFloat(node: IrNode, name: string, fallback: number): number {
  const a = node.attributes[name]
  return a ? (a.value as number) : fallback
}
export function attrInts(node: IrNode, name: string): number[] | undefined {
  const a = node.attributes[name]
  return a ? (a.value as number[]) : undefined
}
export function attrString(node: IrNode, name: string, fallback: string): string {
  const a = node.attributes[name]
  return a ? (a.value as string) : fallback
}

export const intAttr = (value: number): IrAttribute => ({ kind: 'int', value })
export const intsAttr = (value: number[]): IrAttribute => ({ kind: 'ints', value })
export const floatAttr = (value: number): IrAttribute => ({ kind: 'float', value })
export const stringAttr = (value: string): IrAttribute => ({ kind: 'string', value })

export function float32Tensor(data: ArrayLike<number>, dims: number[]): IrTensor {
  return { dataType: 'float32', dims, data: Float32Array.from(data) }
}
export function int64Tensor(data: ArrayLike<number>, dims: number[] = [data.length]): IrTensor {
  return { dataType: 'int64', dims, data: BigInt64Array.from(Array.from(data, (v) => BigInt(v))) }
}
/** Numbers of an integer or float tensor (shape arithmetic reads int64 tensors as plain numbers). */
export function tensorNumbers(t: IrTensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v))
}
