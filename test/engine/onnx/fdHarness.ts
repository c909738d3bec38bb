import * as ort from 'onnxruntime-node'
import { addInputGradient, toAttribute } from '@main/engine/onnx/build'
import { foldModel } from '@main/engine/onnx/fold'
import { type AttrValue, encodeModel, type IrAttribute, type IrModel, type IrNode, type IrTensor, int64Tensor } from '@main/engine/onnx/ir'

/**
 * Finite-difference check of the gradient builder: a small model from IR nodes, objective Σ(w∘y) with a fixed
 * random w (so every output element matters with a different weight), the builder's input gradient against
 * central differences of the same objective run through ONNX Runtime.
 *
 * Tolerances. float64 (default; ONNX Runtime has double kernels for most ops): step 1e-5, truncation error
 * ≈ h²·|f'''|/6 ≈ 1e-11 and rounding ≈ 1e-16·|f|/h ≈ 1e-10 for the O(10) objectives here, so 1e-6 (relative
 * to max(1, |gradient|)) leaves four orders of margin while a wrong rule (a missing factor, a transposed
 * matrix, a dropped broadcast sum) is off by O(1). float32 (ops with float kernels only): step 1e-2, rounding
 * ≈ 6e-8·|f|·√n/h ≈ 1e-4 and truncation ≈ 2e-5·|f'''|, so 3e-3 relative.
 */

export type Dtype = 'float32' | 'float64'

export function node(opType: string, inputs: string[], outputs: string[], attributes: Record<string, IrAttribute | AttrValue> = {}, name?: string): IrNode {
  const attrs: Record<string, IrAttribute> = {}
  for (const [k, v] of Object.entries(attributes)) attrs[k] = toAttribute(v)
  return { name: name ?? `${opType}_${outputs[0]}`, opType, domain: '', inputs, outputs, attributes: attrs }
}

/** Deterministic pseudo-random numbers in [lo, hi). */
export function randoms(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0 || 1
  return Array.from({ length: n }, () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return lo + ((s >>> 0) / 4294967296) * (hi - lo)
  })
}

export function floatTensor(dtype: Dtype, values: ArrayLike<number>, dims: number[]): IrTensor {
  return { dataType: dtype, dims, data: dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values) }
}

export interface FdCase {
  nodes: IrNode[]
  /** The differentiated input. */
  input: { name: string; shape: number[] }
  /** Float initializers as plain numbers (made in the case's dtype) or ready tensors (int64 shapes, axes...). */
  initializers?: Record<string, { values: number[]; dims: number[] } | IrTensor>
  output: string
  opset: number
  dtype?: Dtype
  /** Input values; default uniform in [-2, 2). */
  inputValues?: number[]
  /** Points where the op has a kink: inputs closer than a few steps are moved away so FD stays meaningful. */
  kinks?: number[]
  seed?: number
}

export interface FdResult {
  analytic: number[]
  numeric: number[]
  /** max |a − n| / max(1, |n|) */
  maxError: number
  tolerance: number
  model: IrModel
}

const float = (dtype: Dtype, data: ArrayLike<number>, dims: number[]): ort.Tensor =>
  dtype === 'float64' ? new ort.Tensor('float64', Float64Array.from(data), dims) : new ort.Tensor('float32', Float32Array.from(data), dims)

export function caseModel(c: FdCase, dtype: Dtype): IrModel {
  const initializers = new Map<string, IrTensor>()
  for (const [name, v] of Object.entries(c.initializers ?? {})) {
    initializers.set(name, 'values' in v ? floatTensor(dtype, v.values, v.dims) : v)
  }
  return {
    graph: {
      name: 'fd',
      nodes: c.nodes,
      inputs: [{ name: c.input.name, dataType: dtype, shape: c.input.shape }],
      outputs: [{ name: c.output, dataType: dtype, shape: null }],
      initializers
    },
    opset: c.opset,
    otherOpsets: [],
    irVersion: 8,
    producer: 'fd'
  }
}

export async function checkGradient(c: FdCase): Promise<FdResult> {
  const dtype = c.dtype ?? 'float64'
  const h = dtype === 'float64' ? 1e-5 : 1e-2
  const tolerance = dtype === 'float64' ? 1e-6 : 3e-3
  const folded = await foldModel(caseModel(c, dtype), c.input.shape)
  const m = folded.model
  const yShape = folded.shapes.get(c.output)!
  const n = yShape.reduce((a, b) => a * b, 1)
  const g = m.graph
  g.initializers.set('fd_w', floatTensor(dtype, randoms(n, (c.seed ?? 7) + 1000, 0.5, 1.5), yShape))
  const reduceInputs = ['fd_wy']
  g.nodes.push(node('Mul', [c.output, 'fd_w'], ['fd_wy'], {}, 'fd_mul'))
  g.nodes.push(node('ReduceSum', reduceInputs, ['fd_objective'], { keepdims: 0 }, 'fd_sum'))
  folded.shapes.set('fd_wy', yShape)
  folded.shapes.set('fd_objective', [])
  folded.shapes.set('fd_w', yShape)
  g.outputs = [{ name: 'fd_objective', dataType: dtype, shape: [] }]
  const withGrad = addInputGradient(m, folded.shapes, { objective: 'fd_objective', wrt: c.input.name, gradientName: 'fd_grad' }, 'fd case')

  const session = await ort.InferenceSession.create(encodeModel(withGrad), { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 })
  try {
    const count = c.input.shape.reduce((a, b) => a * b, 1)
    const x = c.inputValues ? [...c.inputValues] : randoms(count, c.seed ?? 7, -2, 2)
    for (const k of c.kinks ?? []) {
      for (let i = 0; i < x.length; i++) if (Math.abs(x[i] - k) < 4 * h) x[i] = k + (x[i] >= k ? 8 * h : -8 * h)
    }
    const run = async (v: number[]): Promise<Record<string, ort.Tensor>> => session.run({ [c.input.name]: float(dtype, v, c.input.shape) })
    const base = await run(x)
    const analytic = Array.from(base.fd_grad.data as Float64Array)
    const numeric: number[] = []
    for (let i = 0; i < count; i++) {
      const plus = [...x]
      plus[i] += h
      const minus = [...x]
      minus[i] -= h
      const fp = Number((await run(plus)).fd_objective.data[0])
      const fm = Number((await run(minus)).fd_objective.data[0])
      numeric.push((fp - fm) / (2 * h))
    }
    let maxError = 0
    for (let i = 0; i < count; i++) maxError = Math.max(maxError, Math.abs(analytic[i] - numeric[i]) / Math.max(1, Math.abs(numeric[i])))
    return { analytic, numeric, maxError, tolerance, model: withGrad }
  } finally {
    await session.release()
  }
}

export { int64Tensor }
