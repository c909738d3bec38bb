import { describe, expect, it } from 'vitest'
import { float32Tensor, floatAttr, intAttr } from '../../../src/main/engine/onnx/ir'
import { spatialRules } from '../../../src/main/engine/onnx/vjp/spatial'
import { UnsupportedGradientError } from '../../../src/main/engine/onnx/vjp/types'
import { checkAgainstFiniteDifferences, FD_TOLERANCE, makeNode, randomArray, seeded, type RuleCase } from './ruleHarness'

function bnCase(inputShape: number[], opset: number): RuleCase {
  const c = inputShape[1]
  const rand = seeded(7)
  return {
    node: makeNode('BatchNormalization', ['x', 'scale', 'bias', 'mean', 'var'], { epsilon: floatAttr(1e-3) }),
    initializers: {
      scale: float32Tensor(randomArray(c, rand), [c]),
      bias: float32Tensor(randomArray(c, rand), [c]),
      mean: float32Tensor(randomArray(c, rand), [c]),
      // Small variances make eps matter, so a rule that forgot it would fail.
      var: float32Tensor(Array.from({ length: c }, () => rand(0.001, 2)), [c])
    },
    inputShape,
    opset,
    rule: spatialRules.BatchNormalization
  }
}

describe('BatchNormalization (inference) backward rule', () => {
  for (const [shape, opset] of [
    [[1, 5, 4, 6], 13],
    [[2, 3, 5, 5], 11],
    [[1, 4, 7], 15],
    [[1, 3, 4, 4], 9]
  ] as [number[], number][]) {
    it(`matches finite differences for x [${shape}] at opset ${opset}`, async () => {
      const { maxErr, scale } = await checkAgainstFiniteDifferences(bnCase(shape, opset))
      expect(maxErr).toBeLessThan(FD_TOLERANCE * (1 + scale))
    })
  }

  it('refuses training mode', () => {
    const c = bnCase([1, 2, 3, 3], 15)
    c.node.attributes.training_mode = intAttr(1)
    expect(() => spatialRules.BatchNormalization({ node: c.node, opset: 15 } as never, ['gy'], [true, false, false, false, false])).toThrow(
      /training_mode/
    )
    expect(UnsupportedGradientError).toBeDefined()
  })
})
