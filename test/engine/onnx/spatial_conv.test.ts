import { describe, expect, it } from 'vitest'
import { float32Tensor, intAttr, intsAttr, stringAttr, type IrAttribute } from '../../../src/main/engine/onnx/ir'
import { spatialRules } from '../../../src/main/engine/onnx/vjp/spatial'
import { UnsupportedGradientError } from '../../../src/main/engine/onnx/vjp/types'
import { buildRuleGraph, checkAgainstFiniteDifferences, FD_TOLERANCE, makeNode, randomArray, seeded, type RuleCase } from './ruleHarness'

interface ConvSpec {
  name: string
  x: number[]
  cout: number
  k: number[]
  group?: number
  strides?: number[]
  pads?: number[]
  dilations?: number[]
  autoPad?: string
  opset?: number
}

function convCase(s: ConvSpec, opType: 'Conv' | 'ConvTranspose' = 'Conv', extra: Record<string, IrAttribute> = {}): RuleCase {
  const rand = seeded(s.x.reduce((a, b) => a * 31 + b, s.cout))
  const group = s.group ?? 1
  const cin = s.x[1]
  // Conv weights [Cout, Cin/group, k], ConvTranspose weights [Cin, Cout/group, k].
  const wDims = opType === 'Conv' ? [s.cout, cin / group, ...s.k] : [cin, s.cout / group, ...s.k]
  const w = float32Tensor(randomArray(wDims.reduce((a, b) => a * b, 1), rand), wDims)
  const b = float32Tensor(randomArray(s.cout, rand), [s.cout])
  const attrs: Record<string, IrAttribute> = { kernel_shape: intsAttr(s.k), ...extra }
  if (s.group) attrs.group = intAttr(s.group)
  if (s.strides) attrs.strides = intsAttr(s.strides)
  if (s.pads) attrs.pads = intsAttr(s.pads)
  if (s.dilations) attrs.dilations = intsAttr(s.dilations)
  if (s.autoPad) attrs.auto_pad = stringAttr(s.autoPad)
  return {
    node: makeNode(opType, ['x', 'w', 'b'], attrs),
    initializers: { w, b },
    inputShape: s.x,
    opset: s.opset ?? 13,
    rule: spatialRules[opType]
  }
}

const convCases: ConvSpec[] = [
  { name: '3x3 stride 1 pad 1', x: [1, 3, 7, 8], cout: 4, k: [3, 3], pads: [1, 1, 1, 1] },
  { name: '2x3 kernel stride 1 asymmetric pads, dilation 1x2 (flipped dense Conv)', x: [1, 3, 8, 9], cout: 5, k: [2, 3], dilations: [1, 2], pads: [1, 2, 0, 1] },
  { name: '3x3 stride 2 pad 1 on odd input', x: [1, 3, 9, 7], cout: 2, k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  { name: 'stride 2 with rows never read', x: [1, 2, 8, 8], cout: 3, k: [3, 3], strides: [2, 2] },
  { name: 'stride 3 asymmetric pads', x: [1, 2, 10, 9], cout: 2, k: [3, 2], strides: [3, 2], pads: [0, 2, 1, 0] },
  { name: 'dilation 2 pad 2 (ASPP-like)', x: [1, 2, 9, 9], cout: 3, k: [3, 3], dilations: [2, 2], pads: [2, 2, 2, 2] },
  { name: 'dilation 2 stride 2 asymmetric pads', x: [1, 2, 11, 10], cout: 2, k: [3, 3], dilations: [2, 2], strides: [2, 2], pads: [1, 0, 2, 1] },
  { name: 'groups 2', x: [1, 4, 7, 7], cout: 6, k: [3, 3], group: 2, pads: [1, 1, 1, 1] },
  { name: 'depthwise stride 2 (MobileNet)', x: [1, 4, 9, 9], cout: 4, k: [5, 5], group: 4, strides: [2, 2], pads: [2, 2, 2, 2] },
  { name: 'depthwise with channel multiplier', x: [1, 3, 6, 7], cout: 6, k: [3, 3], group: 3, pads: [1, 1, 1, 1] },
  { name: 'depthwise 3x3 stride 1 (flipped-kernel Conv)', x: [1, 4, 7, 9], cout: 4, k: [3, 3], group: 4, pads: [1, 1, 1, 1] },
  { name: 'depthwise 3x3 dilation 2 asymmetric pads', x: [1, 3, 9, 8], cout: 3, k: [3, 3], group: 3, dilations: [2, 2], pads: [2, 1, 0, 3] },
  { name: 'depthwise 3x3 no pads', x: [1, 3, 6, 7], cout: 3, k: [3, 3], group: 3 },
  { name: 'depthwise 3x3 pads wider than the kernel', x: [1, 2, 5, 6], cout: 2, k: [3, 3], group: 2, pads: [3, 0, 1, 4] },
  { name: 'pads wider than the kernel', x: [1, 2, 5, 5], cout: 3, k: [3, 3], pads: [4, 3, 2, 5] },
  { name: '1x1 stride 2', x: [1, 4, 7, 7], cout: 3, k: [1, 1], strides: [2, 2] },
  { name: 'SAME_UPPER stride 2 on even input', x: [1, 2, 8, 6], cout: 2, k: [3, 3], strides: [2, 2], autoPad: 'SAME_UPPER' },
  { name: 'SAME_UPPER stride 1 even kernel', x: [1, 2, 7, 6], cout: 2, k: [2, 4], autoPad: 'SAME_UPPER' },
  { name: 'SAME_LOWER stride 1 even kernel', x: [1, 2, 7, 6], cout: 2, k: [2, 4], autoPad: 'SAME_LOWER' },
  { name: 'SAME_LOWER stride 2 odd input', x: [1, 2, 9, 7], cout: 2, k: [3, 3], strides: [2, 2], autoPad: 'SAME_LOWER' },
  { name: 'SAME_UPPER 1x1 stride 3 (pad needed is negative)', x: [1, 2, 8, 7], cout: 2, k: [1, 1], strides: [3, 3], autoPad: 'SAME_UPPER' },
  { name: 'SAME_LOWER 1x1 stride 3 (pad needed is negative)', x: [1, 2, 8, 7], cout: 2, k: [1, 1], strides: [3, 3], autoPad: 'SAME_LOWER' },
  { name: 'VALID stride 3', x: [1, 2, 10, 11], cout: 2, k: [3, 3], strides: [3, 3], autoPad: 'VALID' },
  { name: '1-D stride 2 dilation 2', x: [1, 3, 17], cout: 2, k: [3], strides: [2], dilations: [2], pads: [1, 2] },
  { name: '3-D stride 2 groups 2', x: [1, 2, 5, 4, 5], cout: 4, k: [3, 2, 3], group: 2, strides: [2, 1, 2], pads: [1, 0, 1, 1, 1, 0] },
  { name: 'batch of 2 at opset 11', x: [2, 2, 6, 5], cout: 3, k: [3, 3], strides: [2, 1], pads: [1, 1, 1, 1], opset: 11 },
  { name: 'opset 17', x: [1, 2, 6, 6], cout: 2, k: [3, 3], pads: [1, 1, 1, 1], opset: 17 }
]

describe('Conv backward rule against finite differences', () => {
  for (const s of convCases) {
    it(`matches for ${s.name}`, async () => {
      const { maxErr, scale } = await checkAgainstFiniteDifferences(convCase(s))
      expect(maxErr).toBeLessThan(FD_TOLERANCE * (1 + scale))
    })
  }

  it('emits one ConvTranspose with the same weights, group, strides and dilations', async () => {
    const { emitted } = await buildRuleGraph(convCase(convCases.find((c) => c.name === 'dilation 2 stride 2 asymmetric pads')!))
    const ct = emitted.filter((n) => n.opType === 'ConvTranspose')
    expect(ct).toHaveLength(1)
    expect(ct[0].inputs[1]).toBe('w')
    expect(ct[0].attributes.strides.value).toEqual([2, 2])
    expect(ct[0].attributes.dilations.value).toEqual([2, 2])
  })

  it('writes a stride-1 depthwise 3x3 backward as a Conv with the flipped kernel', async () => {
    const { emitted } = await buildRuleGraph(convCase(convCases.find((c) => c.name.startsWith('depthwise 3x3 stride 1'))!))
    expect(emitted.map((n) => n.opType)).toContain('Conv')
    expect(emitted.map((n) => n.opType)).not.toContain('ConvTranspose')
  })

  it('writes a stride-1 dense backward as a Conv with the flipped, in/out-swapped kernel', async () => {
    const { emitted } = await buildRuleGraph(convCase(convCases.find((c) => c.name.startsWith('2x3 kernel stride 1'))!))
    expect(emitted.filter((n) => n.opType === 'Conv')).toHaveLength(1)
    expect(emitted.map((n) => n.opType)).not.toContain('ConvTranspose')
  })

  it('refuses weights that depend on the differentiated input', () => {
    const c = convCase(convCases[0])
    const ctx = { node: c.node } as never
    expect(() => spatialRules.Conv(ctx, ['gy'], [true, true, false])).toThrow(UnsupportedGradientError)
  })
})

const transposeCases: (ConvSpec & { extra?: Record<string, IrAttribute> })[] = [
  { name: 'stride 2 k 2 (U-Net up-conv)', x: [1, 3, 5, 4], cout: 2, k: [2, 2], strides: [2, 2] },
  { name: 'stride 2 k 3 pad 1 output_padding 1', x: [1, 2, 4, 5], cout: 3, k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], extra: { output_padding: intsAttr([1, 1]) } },
  { name: 'stride 3 asymmetric pads dilation 2', x: [1, 2, 4, 4], cout: 2, k: [3, 2], strides: [3, 2], dilations: [2, 1], pads: [2, 0, 1, 1] },
  { name: 'groups 2', x: [1, 4, 5, 5], cout: 2, k: [3, 3], group: 2, strides: [2, 2], pads: [1, 1, 1, 1] },
  { name: 'depthwise', x: [1, 3, 5, 6], cout: 3, k: [3, 3], group: 3, pads: [1, 1, 1, 1] },
  { name: 'output_shape larger than the natural size', x: [1, 2, 4, 4], cout: 2, k: [3, 3], strides: [2, 2], extra: { output_shape: intsAttr([10, 9]) } },
  { name: 'SAME_UPPER stride 2', x: [1, 2, 4, 5], cout: 2, k: [3, 3], strides: [2, 2], autoPad: 'SAME_UPPER' },
  { name: 'SAME_LOWER stride 2', x: [1, 2, 4, 5], cout: 2, k: [4, 3], strides: [2, 2], autoPad: 'SAME_LOWER' },
  { name: '1-D', x: [1, 2, 7], cout: 3, k: [4], strides: [2], pads: [1, 1] }
]

describe('ConvTranspose backward rule against finite differences', () => {
  for (const s of transposeCases) {
    it(`matches for ${s.name}`, async () => {
      const { maxErr, scale } = await checkAgainstFiniteDifferences(convCase(s, 'ConvTranspose', s.extra))
      expect(maxErr).toBeLessThan(FD_TOLERANCE * (1 + scale))
    })
  }
})
