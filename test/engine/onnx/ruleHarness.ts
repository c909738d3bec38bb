import * as ort from 'onnxruntime-node'
import {
  elementCount,
  encodeModel,
  float32Tensor,
  int64Tensor,
  type AttrValue,
  type IrAttribute,
  type IrModel,
  type IrNode,
  type IrTensor
} from '../../../src/main/engine/onnx/ir'
import type { GradContext, GradRule } from '../../../src/main/engine/onnx/vjp/types'

/**
 * Runs one backward rule on one forward node, outside the gradient builder: the forward node and the rule's nodes
 * go into one graph with inputs x and gy (the cotangent), whose output is the rule's dL/dx. The reference is
 * central finite differences of sum(gy * y) through ONNX Runtime's own forward op.
 */
export interface RuleCase {
  /** inputs[0] must be 'x', outputs[0] 'y'; other inputs are initializers. */
  node: IrNode
  initializers?: Record<string, IrTensor>
  inputShape: number[]
  opset: number
  rule: GradRule
  /** Initializers for a forward pass on `batch` stacked copies of x, where one depends on the batch (Resize sizes). */
  batched?: (batch: number) => Record<string, IrTensor>
}

// Errors only: tf_half_pixel_for_nn at opset 13 logs a deprecation warning per session. The forward op of the
// reference runs unoptimised; the rule's graph runs with every optimisation, as the app will run it, so a fusion or
// layout change that alters the emitted ops' meaning would show up here.
const referenceOpts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled', logSeverityLevel: 3 }
const ruleOpts: ort.InferenceSession.SessionOptions = { ...referenceOpts, graphOptimizationLevel: 'all' }

export function makeNode(opType: string, inputs: string[], attributes: Record<string, IrAttribute> = {}, outputs = ['y']): IrNode {
  return { name: `${opType.toLowerCase()}_under_test`, opType, domain: '', inputs, outputs, attributes }
}

function model(c: RuleCase, nodes: IrNode[], inits: Map<string, IrTensor>, outputs: string[], xShape: number[], extraInputs: { name: string; shape: number[] }[] = []): IrModel {
  return {
    graph: {
      name: 'rule_harness',
      nodes,
      inputs: [{ name: 'x', dataType: 'float32', shape: xShape }, ...extraInputs.map((i) => ({ name: i.name, dataType: 'float32' as const, shape: i.shape }))],
      outputs: outputs.map((name) => ({ name, dataType: 'float32' as const, shape: null })),
      initializers: inits
    },
    opset: c.opset,
    otherOpsets: [],
    irVersion: 8,
    producer: 'rule-harness'
  }
}

async function run(m: IrModel, feeds: Record<string, { data: Float32Array; dims: number[] }>, opts = referenceOpts): Promise<ort.Tensor[]> {
  const s = await ort.InferenceSession.create(encodeModel(m), opts)
  try {
    const f: Record<string, ort.Tensor> = {}
    for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', v.data, v.dims)
    const out = await s.run(f)
    return s.outputNames.map((n) => out[n])
  } finally {
    await s.release()
  }
}

const initMap = (c: RuleCase, batch?: number): Map<string, IrTensor> =>
  new Map(Object.entries({ ...(c.initializers ?? {}), ...(batch !== undefined && c.batched ? c.batched(batch) : {}) }))

/** The forward output y for input x. */
export async function forward(c: RuleCase, x: Float32Array): Promise<{ data: Float32Array; dims: number[] }> {
  const [y] = await run(model(c, [c.node], initMap(c), ['y'], c.inputShape), { x: { data: x, dims: c.inputShape } })
  return { data: y.data as Float32Array, dims: y.dims.map(Number) }
}

function normaliseAttr(v: IrAttribute | AttrValue): IrAttribute {
  if (typeof v === 'object' && v !== null && 'kind' in v) return v
  if (typeof v === 'number') return Number.isInteger(v) ? { kind: 'int', value: v } : { kind: 'float', value: v }
  if (typeof v === 'string') return { kind: 'string', value: v }
  if (Array.isArray(v)) {
    if (v.every((e) => typeof e === 'string')) return { kind: 'strings', value: v as string[] }
    return (v as number[]).every(Number.isInteger) ? { kind: 'ints', value: v as number[] } : { kind: 'floats', value: v as number[] }
  }
  return { kind: 'tensor', value: v }
}

/** Builds the rule's graph; returns it with dL/dx's name and the y shape found by a probe run. */
export async function buildRuleGraph(c: RuleCase): Promise<{ model: IrModel; yShape: number[]; emitted: IrNode[] }> {
  const probe = await forward(c, new Float32Array(elementCount(c.inputShape)))
  const inits = initMap(c)
  const shapes = new Map<string, number[]>([
    ['x', c.inputShape],
    ['y', probe.dims],
    ['gy', probe.dims]
  ])
  for (const [k, t] of inits) shapes.set(k, t.dims)
  const emitted: IrNode[] = []
  let counter = 0
  const fresh = (stem: string) => `${stem}_${counter++}`
  const ctx: GradContext = {
    node: c.node,
    opset: c.opset,
    shape(v) {
      const s = shapes.get(v)
      if (!s) throw new Error(`harness: no shape for '${v}'`)
      return s
    },
    constant: (v) => (c.initializers ?? {})[v],
    emit(opType, inputs, attributes = {}, outputCount = 1) {
      const outputs = Array.from({ length: outputCount }, () => fresh(`${opType}_out`))
      const attrs: Record<string, IrAttribute> = {}
      for (const [k, a] of Object.entries(attributes)) attrs[k] = normaliseAttr(a)
      emitted.push({ name: fresh(opType), opType, domain: '', inputs, outputs, attributes: attrs })
      return outputs
    },
    constantTensor(t) {
      const name = fresh('const')
      inits.set(name, t)
      return name
    },
    int64: (values) => ctx.constantTensor(int64Tensor(values)),
    float: (values, dims) => ctx.constantTensor(float32Tensor(values, dims))
  }
  const wanted = c.node.inputs.map((_, i) => i === 0)
  const grads = c.rule(ctx, ['gy', ...c.node.outputs.slice(1).map(() => undefined)], wanted)
  const dx = grads[0]
  if (!dx) throw new Error('harness: the rule returned no gradient for x')
  emitted.push({ name: 'dx_identity', opType: 'Identity', domain: '', inputs: [dx], outputs: ['dx'], attributes: {} })
  const m = model(c, [c.node, ...emitted], inits, ['dx'], c.inputShape, [{ name: 'gy', shape: probe.dims }])
  return { model: m, yShape: probe.dims, emitted }
}

/** dL/dx from the rule's graph. */
export async function ruleGradient(c: RuleCase, x: Float32Array, gy: Float32Array): Promise<Float32Array> {
  const { model: m, yShape } = await buildRuleGraph(c)
  const [dx] = await run(m, { x: { data: x, dims: c.inputShape }, gy: { data: gy, dims: yShape } }, ruleOpts)
  if (dx.dims.map(Number).join() !== c.inputShape.join()) throw new Error(`dL/dx has shape [${dx.dims}], x has [${c.inputShape}]`)
  return dx.data as Float32Array
}

/**
 * Central differences of L(x) = sum(gy * y(x)), all 2n perturbed copies of x stacked on the batch axis and run as one
 * forward pass (every op here treats batch items independently). The difference y(x+e) - y(x-e) is taken per element
 * in float64 before the dot product, so the error is float32 rounding of y (about 1e-7 relative) divided by 2*eps,
 * not the cancellation of two large sums.
 */
export async function finiteDifferenceGradient(c: RuleCase, x: Float32Array, gy: Float32Array, eps: number): Promise<Float64Array> {
  const n = x.length
  const copies = 2 * n
  const batch = copies * c.inputShape[0]
  const xs = new Float32Array(copies * n)
  for (let i = 0; i < n; i++) {
    xs.set(x, 2 * i * n)
    xs.set(x, (2 * i + 1) * n)
    xs[2 * i * n + i] = x[i] + eps
    xs[(2 * i + 1) * n + i] = x[i] - eps
  }
  const dims = [batch, ...c.inputShape.slice(1)]
  const [y] = await run(model(c, [c.node], initMap(c, batch), ['y'], dims), { x: { data: xs, dims } })
  const yd = y.data as Float32Array
  const m = gy.length
  if (yd.length !== copies * m) throw new Error(`batched forward gave ${yd.length} values, expected ${copies * m}`)
  const grad = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let s = 0
    const p = 2 * i * m
    const q = (2 * i + 1) * m
    for (let j = 0; j < m; j++) s += gy[j] * (yd[p + j] - yd[q + j])
    grad[i] = s / (2 * eps)
  }
  return grad
}

/** Deterministic pseudo-random numbers (mulberry32), uniform in [lo, hi). */
export function seeded(seed: number): (lo?: number, hi?: number) => number {
  let a = seed >>> 0
  return (lo = -1, hi = 1) => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296)
  }
}

export function randomArray(n: number, rand: (lo?: number, hi?: number) => number): Float32Array {
  return Float32Array.from({ length: n }, () => rand())
}

/** Largest |a - b| relative to the reference's scale, and where it happens. */
export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>): { maxErr: number; at: number; scale: number } {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`)
  let maxErr = 0
  let at = -1
  let scale = 0
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]))
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i])
    if (e > maxErr) {
      maxErr = e
      at = i
    }
  }
  return { maxErr, at, scale }
}

/**
 * Rule gradient against finite differences for random x and gy. The ops under test are linear (or piecewise linear
 * with x's values far apart, see maxPool cases), so central differences are exact up to rounding for any eps and a
 * large eps keeps that rounding small: the tolerance 2e-4 * (1 + max|grad|) is a few hundred times the expected
 * float32 error and far below the size of any real mistake (a missed or doubled tap moves a value by ~|gy| ~ 0.5).
 */
export async function checkAgainstFiniteDifferences(
  c: RuleCase,
  opts: { seed?: number; eps?: number; x?: Float32Array } = {}
): Promise<{ maxErr: number; scale: number; rule: Float32Array; fd: Float64Array }> {
  const rand = seeded(opts.seed ?? 1)
  const x = opts.x ?? randomArray(elementCount(c.inputShape), rand)
  const y = await forward(c, x)
  const gy = randomArray(elementCount(y.dims), rand)
  const rule = await ruleGradient(c, x, gy)
  const fd = await finiteDifferenceGradient(c, x, gy, opts.eps ?? 0.5)
  const { maxErr, scale } = compare(rule, fd)
  return { maxErr, scale, rule, fd }
}

export const FD_TOLERANCE = 2e-4
