import { describe, expect, it } from 'vitest'
import { elementCount, intAttr, intsAttr, stringAttr, type IrAttribute } from '../../../src/main/engine/onnx/ir'
import { spatialRules } from '../../../src/main/engine/onnx/vjp/spatial'
import { buildRuleGraph, checkAgainstFiniteDifferences, FD_TOLERANCE, forward, makeNode, randomArray, ruleGradient, seeded, type RuleCase } from './ruleHarness'

interface PoolSpec {
  name: string
  x: number[]
  k: number[]
  strides?: number[]
  pads?: number[]
  dilations?: number[]
  ceil?: boolean
  autoPad?: string
  countIncludePad?: boolean
  storageOrder?: number
  opset?: number
}

function poolCase(op: 'MaxPool' | 'AveragePool', s: PoolSpec): RuleCase {
  const attrs: Record<string, IrAttribute> = { kernel_shape: intsAttr(s.k) }
  if (s.strides) attrs.strides = intsAttr(s.strides)
  if (s.pads) attrs.pads = intsAttr(s.pads)
  if (s.dilations) attrs.dilations = intsAttr(s.dilations)
  if (s.ceil) attrs.ceil_mode = intAttr(1)
  if (s.autoPad) attrs.auto_pad = stringAttr(s.autoPad)
  if (s.countIncludePad) attrs.count_include_pad = intAttr(1)
  if (s.storageOrder !== undefined) attrs.storage_order = intAttr(s.storageOrder)
  return { node: makeNode(op, ['x'], attrs), inputShape: s.x, opset: s.opset ?? 13, rule: spatialRules[op] }
}

/**
 * Distinct values 0.05 apart in random order: with eps = 0.01 no perturbation changes which input is a window's
 * maximum, so max pooling is linear on the whole stencil and central differences are exact up to rounding.
 */
function distinctValues(n: number, seed: number): Float32Array {
  const rand = seeded(seed)
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand(0, 1) * (i + 1))
    ;[v[i], v[j]] = [v[j], v[i]]
  }
  return Float32Array.from(v)
}

/**
 * Independent reference for ties: each window sends dL/dy to its first maximum in row-major window order
 * (PyTorch's max_pool2d backward picks the same input), accumulating over overlapping windows. 2-D, NCHW.
 */
function maxPoolReferenceGradient(x: Float32Array, shape: number[], gy: Float32Array, outHW: number[], s: PoolSpec): Float64Array {
  const [n, c, h, w] = shape
  const [oh, ow] = outHW
  const [kh, kw] = s.k
  const [sh, sw] = s.strides ?? [1, 1]
  const [dh, dw] = s.dilations ?? [1, 1]
  const [ph, pw] = s.pads ?? [0, 0]
  const dx = new Float64Array(x.length)
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let best = -Infinity
        let at = -1
        for (let a = 0; a < kh; a++) {
          for (let b = 0; b < kw; b++) {
            const r = i * sh - ph + a * dh
            const q = j * sw - pw + b * dw
            if (r < 0 || r >= h || q < 0 || q >= w) continue
            const v = x[p * h * w + r * w + q]
            if (v > best) {
              best = v
              at = p * h * w + r * w + q
            }
          }
        }
        dx[at] += gy[p * oh * ow + i * ow + j]
      }
    }
  }
  return dx
}

const maxCases: PoolSpec[] = [
  { name: 'k3 s2 p1, overlapping windows (ResNet stem)', x: [1, 2, 9, 9], k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  { name: 'k3 s2 p1 on even input', x: [1, 2, 8, 10], k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], opset: 11 },
  { name: 'k2 s2 (U-Net) with an odd width', x: [2, 2, 6, 7], k: [2, 2], strides: [2, 2] },
  { name: 'k2 s2 at opset 10', x: [1, 2, 6, 8], k: [2, 2], strides: [2, 2], opset: 10 },
  { name: 'k3x2 s3x2 tiles with leftover rows', x: [1, 2, 8, 6], k: [3, 2], strides: [3, 2] },
  { name: 'k3 s1 p1', x: [1, 2, 6, 5], k: [3, 3], pads: [1, 1, 1, 1] },
  { name: 'k3 s2 ceil_mode on even input', x: [1, 2, 8, 8], k: [3, 3], strides: [2, 2], ceil: true },
  { name: 'k2 s3 ceil_mode with pads', x: [1, 1, 10, 8], k: [2, 2], strides: [3, 3], pads: [1, 0, 1, 1], ceil: true, opset: 17 },
  { name: 'dilation 2 stride 2', x: [1, 2, 9, 10], k: [2, 3], strides: [2, 2], dilations: [2, 2], pads: [1, 1, 0, 1] },
  { name: 'asymmetric pads stride 3', x: [1, 2, 10, 11], k: [3, 2], strides: [3, 2], pads: [2, 0, 0, 1] },
  { name: 'SAME_UPPER stride 2', x: [1, 2, 7, 8], k: [3, 3], strides: [2, 2], autoPad: 'SAME_UPPER' },
  { name: 'SAME_LOWER stride 1', x: [1, 2, 5, 6], k: [2, 2], autoPad: 'SAME_LOWER' },
  { name: 'SAME_UPPER dilation 2 stride 2', x: [1, 2, 9, 8], k: [3, 2], strides: [2, 2], dilations: [2, 2], autoPad: 'SAME_UPPER' },
  { name: 'SAME_LOWER dilation 2', x: [1, 2, 7, 8], k: [3, 2], dilations: [2, 3], autoPad: 'SAME_LOWER' },
  { name: 'storage_order 1', x: [1, 2, 7, 6], k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], storageOrder: 1 },
  { name: '1-D k3 s2 p1', x: [1, 3, 13], k: [3], strides: [2], pads: [1, 1] },
  { name: '3-D k3 s2 p1', x: [1, 2, 5, 6, 5], k: [3, 3, 2], strides: [2, 2, 2], pads: [1, 1, 0, 1, 0, 1] }
]

// From opset 16 the rule scatters with ScatterElements(reduction='add'); the same geometry must hold there too.
const opset17Cases = ['k3 s2 p1, overlapping', 'k2 s2 (U-Net)', 'k3 s2 ceil_mode', 'dilation 2 stride 2', 'SAME_UPPER stride 2', '1-D', '3-D'].map((prefix) => {
  const m = maxCases.find((c) => c.name.startsWith(prefix))!
  return { ...m, name: `${m.name} at opset 17`, opset: 17 }
})
// Opsets 8-10 have no ScatterElements: the mask-and-ConvTranspose path.
const opset10Cases = ['k3 s2 p1, overlapping', 'k3 s2 ceil_mode', 'dilation 2 stride 2', 'asymmetric pads'].map((prefix) => {
  const m = maxCases.find((c) => c.name.startsWith(prefix))!
  return { ...m, name: `${m.name} at opset 10`, opset: 10 }
})
maxCases.push(...opset17Cases, ...opset10Cases)

describe('MaxPool backward rule', () => {

  for (const s of maxCases) {
    it(`matches finite differences for ${s.name}`, async () => {
      const c = poolCase('MaxPool', s)
      const { maxErr, scale } = await checkAgainstFiniteDifferences(c, { x: distinctValues(elementCount(s.x), 11), eps: 0.01 })
      expect(maxErr).toBeLessThan(FD_TOLERANCE * (1 + scale))
    })
  }

  it('scatters once with reduction=add from opset 16, once per class of disjoint windows before, with masks before 11', async () => {
    const ops = async (m: PoolSpec) => (await buildRuleGraph(poolCase('MaxPool', m))).emitted.map((n) => n.opType)
    const stem = maxCases.find((m) => m.name.startsWith('k3 s2 p1, overlapping'))!
    const unet = maxCases.find((m) => m.name.startsWith('k2 s2 (U-Net)'))!
    expect((await ops({ ...stem, opset: 17 })).filter((o) => o === 'ScatterElements')).toHaveLength(1)
    expect((await ops({ ...stem, opset: 13 })).filter((o) => o === 'ScatterElements')).toHaveLength(4)
    expect((await ops({ ...unet, opset: 13 })).filter((o) => o === 'ScatterElements')).toHaveLength(1)
    expect(await ops({ ...stem, opset: 10 })).toContain('ConvTranspose')
  })

  const tieCases = ['k3 s2 p1, overlapping', 'k2 s2 (U-Net)', 'k3x2 s3x2 tiles', 'k3 s2 ceil_mode', 'dilation 2 stride 2'].map((prefix) => maxCases.find((m) => m.name.startsWith(prefix))!)
  tieCases.push(...opset17Cases.filter((m) => m.x.length === 4).slice(0, 4), ...opset10Cases.slice(0, 2))
  for (const s of tieCases) {
    it(`sends each window's gradient to its first maximum under ties (${s.name})`, async () => {
      const c = poolCase('MaxPool', s)
      const rand = seeded(5)
      // Values from {0, 1, 2}: nearly every window holds several maxima.
      const x = Float32Array.from({ length: elementCount(s.x) }, () => Math.floor(rand(0, 3)))
      const y = await forward(c, x)
      const gy = randomArray(elementCount(y.dims), rand)
      const dx = await ruleGradient(c, x, gy)
      const ref = maxPoolReferenceGradient(x, s.x, gy, y.dims.slice(2), s)
      for (let i = 0; i < ref.length; i++) expect(dx[i]).toBeCloseTo(ref[i], 5)
      // Total gradient is conserved: each window's dL/dy lands on exactly one input.
      const total = gy.reduce((a, b) => a + b, 0)
      expect(dx.reduce((a, b) => a + b, 0)).toBeCloseTo(total, 4)
    })
  }
})

const avgCases: PoolSpec[] = [
  { name: 'k3 s2 p1 excluding pads', x: [1, 2, 9, 8], k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  { name: 'k3 s2 p1 including pads', x: [1, 2, 9, 8], k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: true },
  { name: 'k2 s2', x: [2, 2, 6, 7], k: [2, 2], strides: [2, 2] },
  { name: 'k3 s2 ceil_mode excluding pads', x: [1, 2, 8, 8], k: [3, 3], strides: [2, 2], ceil: true },
  { name: 'k3 s2 ceil_mode with pads including pads', x: [1, 2, 8, 9], k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil: true, countIncludePad: true },
  { name: 'asymmetric pads stride 3 including pads', x: [1, 2, 10, 11], k: [3, 2], strides: [3, 2], pads: [2, 0, 0, 1], countIncludePad: true, opset: 11 },
  { name: 'SAME_UPPER stride 2', x: [1, 2, 7, 8], k: [3, 3], strides: [2, 2], autoPad: 'SAME_UPPER', opset: 17 },
  { name: 'overlapping k5 s1 p2 (LR-ASPP-like)', x: [1, 2, 7, 7], k: [5, 5], pads: [2, 2, 2, 2] },
  { name: '1-D', x: [1, 2, 11], k: [4], strides: [3], pads: [1, 2] },
  { name: '3-D ceil_mode', x: [1, 2, 5, 6, 5], k: [2, 3, 2], strides: [2, 2, 2], ceil: true }
]

describe('AveragePool backward rule against finite differences', () => {
  for (const s of avgCases) {
    it(`matches for ${s.name}`, async () => {
      const { maxErr, scale } = await checkAgainstFiniteDifferences(poolCase('AveragePool', s))
      expect(maxErr).toBeLessThan(FD_TOLERANCE * (1 + scale))
    })
  }
})

describe('global pools', () => {
  it('GlobalAveragePool matches finite differences', async () => {
    const c: RuleCase = { node: makeNode('GlobalAveragePool', ['x']), inputShape: [2, 3, 5, 7], opset: 13, rule: spatialRules.GlobalAveragePool }
    const { maxErr, scale } = await checkAgainstFiniteDifferences(c)
    expect(maxErr).toBeLessThan(FD_TOLERANCE * (1 + scale))
  })

  it('GlobalMaxPool matches finite differences away from ties', async () => {
    const c: RuleCase = { node: makeNode('GlobalMaxPool', ['x']), inputShape: [2, 3, 4, 5], opset: 11, rule: spatialRules.GlobalMaxPool }
    const { maxErr, scale } = await checkAgainstFiniteDifferences(c, { x: distinctValues(120, 3), eps: 0.01 })
    expect(maxErr).toBeLessThan(FD_TOLERANCE * (1 + scale))
  })

  it('GlobalMaxPool sends the gradient to the first maximum under ties', async () => {
    const c: RuleCase = { node: makeNode('GlobalMaxPool', ['x']), inputShape: [1, 2, 3, 4], opset: 13, rule: spatialRules.GlobalMaxPool }
    const x = new Float32Array(24).fill(1)
    x[5] = 3
    x[7] = 3
    const dx = await ruleGradient(c, x, Float32Array.from([2, -1]))
    const expected = new Array(24).fill(0)
    expected[5] = 2
    expected[12] = -1
    // + 0 turns the -0 of a masked negative gradient into 0 for the comparison.
    expect(Array.from(dx, (v) => v + 0)).toEqual(expected)
  })
})
