import { describe, expect, it } from 'vitest'
import { float32Tensor, int64Tensor, intsAttr, stringAttr, type IrAttribute, type IrTensor } from '../../../src/main/engine/onnx/ir'
import { spatialRules } from '../../../src/main/engine/onnx/vjp/spatial'
import { UnsupportedGradientError } from '../../../src/main/engine/onnx/vjp/types'
import { checkAgainstFiniteDifferences, FD_TOLERANCE, makeNode, type RuleCase } from './ruleHarness'

interface PadSpec {
  name: string
  x: number[]
  pads: number[]
  mode?: string
  opset: number
  axes?: number[]
}

function padCase(s: PadSpec): RuleCase {
  const attrs: Record<string, IrAttribute> = {}
  if (s.mode) attrs.mode = stringAttr(s.mode)
  const inits: Record<string, IrTensor> = {}
  let inputs = ['x']
  if (s.opset < 11) {
    attrs.pads = intsAttr(s.pads)
  } else {
    inits.pads = int64Tensor(s.pads)
    inits.value = float32Tensor([0.25], [])
    inputs = ['x', 'pads', 'value']
    if (s.axes) {
      inits.axes = int64Tensor(s.axes)
      inputs.push('axes')
    }
  }
  return { node: makeNode('Pad', inputs, attrs), initializers: inits, inputShape: s.x, opset: s.opset, rule: spatialRules.Pad }
}

// Pads on the batch axis are left out: the finite-difference reference stacks perturbed copies along it.
const cases: PadSpec[] = [
  { name: 'constant, symmetric spatial pads', x: [1, 2, 5, 6], pads: [0, 0, 1, 1, 0, 0, 1, 1], opset: 13 },
  { name: 'constant, asymmetric pads incl. channels', x: [1, 2, 5, 6], pads: [0, 1, 0, 3, 0, 0, 2, 0], opset: 11 },
  { name: 'constant, negative pads crop', x: [1, 2, 6, 7], pads: [0, 0, -1, 2, 0, 0, 1, -3], opset: 13 },
  { name: 'constant, attribute form (Pad-2)', x: [2, 2, 4, 5], pads: [0, 0, 2, 0, 0, 0, 1, 1], opset: 9 },
  { name: 'constant, axes input (Pad-18)', x: [1, 2, 4, 5], pads: [1, 2, 0, 1], axes: [2, -1], opset: 18 },
  { name: 'reflect', x: [1, 2, 5, 6], pads: [0, 0, 2, 1, 0, 0, 3, 4], mode: 'reflect', opset: 13 },
  { name: 'reflect, one axis, attribute form', x: [1, 2, 4, 5], pads: [0, 0, 0, 2, 0, 0, 0, 2], mode: 'reflect', opset: 9 },
  { name: 'edge', x: [1, 2, 4, 5], pads: [0, 0, 3, 1, 0, 0, 0, 6], mode: 'edge', opset: 11 },
  { name: 'wrap (Pad-19)', x: [1, 2, 4, 5], pads: [0, 0, 2, 1, 0, 0, 3, 2], mode: 'wrap', opset: 19 },
  { name: 'reflect on a 3-D input', x: [1, 3, 7], pads: [0, 0, 3, 0, 0, 2], mode: 'reflect', opset: 13 }
]

describe('Pad backward rule against finite differences', () => {
  for (const s of cases) {
    it(`matches for ${s.name}`, async () => {
      const { maxErr, scale } = await checkAgainstFiniteDifferences(padCase(s))
      expect(maxErr).toBeLessThan(FD_TOLERANCE * (1 + scale))
    })
  }

  it('refuses reflect padding of the channel axis', () => {
    const c = padCase({ name: '', x: [1, 4, 4, 4], pads: [0, 1, 0, 0, 0, 1, 0, 0], mode: 'reflect', opset: 13 })
    const ctx = { node: c.node, opset: 13, shape: () => [1, 4, 4, 4], constant: (v: string) => c.initializers?.[v] } as never
    expect(() => spatialRules.Pad(ctx, ['gy'], [true, false, false])).toThrow(UnsupportedGradientError)
  })
})
