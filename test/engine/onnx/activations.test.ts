import { describe, expect, it } from 'vitest'
import { floatAttr } from '@main/engine/onnx/ir'
import { checkGradient, type FdCase, node, randoms } from './fdHarness'

async function expectFd(c: FdCase): Promise<void> {
  const r = await checkGradient(c)
  expect(r.maxError).toBeLessThan(r.tolerance)
}

const unary = (op: string, attrs: Record<string, ReturnType<typeof floatAttr> | number> = {}, extra: Partial<FdCase> = {}): FdCase => ({
  nodes: [node(op, ['x'], ['y'], attrs)],
  input: { name: 'x', shape: [2, 3, 4] },
  output: 'y',
  opset: 13,
  ...extra
})

describe('activation gradients match finite differences', () => {
  it('Relu', () => expectFd(unary('Relu', {}, { kinks: [0] })))
  it('LeakyRelu (float32: no double kernel)', () => expectFd(unary('LeakyRelu', { alpha: floatAttr(0.1) }, { kinks: [0], dtype: 'float32' })))
  it('Sigmoid', () => expectFd(unary('Sigmoid')))
  it('Tanh', () => expectFd(unary('Tanh')))
  it('HardSigmoid default and custom slope, both clamps reached (float32)', async () => {
    await expectFd(unary('HardSigmoid', {}, { kinks: [-2.5, 2.5], dtype: 'float32', inputValues: randoms(24, 3, -4, 4) }))
    await expectFd(unary('HardSigmoid', { alpha: floatAttr(1 / 6), beta: floatAttr(0.5) }, { kinks: [-3, 3], dtype: 'float32', inputValues: randoms(24, 4, -5, 5) }))
  })
  it('HardSwish across its three pieces (float32)', () => expectFd(unary('HardSwish', {}, { opset: 14, kinks: [-3, 3], dtype: 'float32', inputValues: randoms(24, 5, -5, 5) })))
  it('Clip with bounds as inputs (opset 13), one bound missing, and as attributes (opset 9 and 10)', async () => {
    await expectFd({
      nodes: [node('Clip', ['x', 'lo', 'hi'], ['y'])],
      input: { name: 'x', shape: [2, 3, 4] },
      initializers: { lo: { values: [-0.5], dims: [] }, hi: { values: [0.7], dims: [] } },
      output: 'y',
      opset: 13,
      kinks: [-0.5, 0.7]
    })
    await expectFd({
      nodes: [node('Clip', ['x', '', 'hi'], ['y'])],
      input: { name: 'x', shape: [2, 3, 4] },
      initializers: { hi: { values: [0.7], dims: [] } },
      output: 'y',
      opset: 13,
      kinks: [0.7]
    })
    await expectFd(unary('Clip', { min: floatAttr(-0.5), max: floatAttr(1) }, { opset: 9, kinks: [-0.5, 1], dtype: 'float32' }))
    await expectFd(unary('Clip', { min: floatAttr(-0.5) }, { opset: 10, kinks: [-0.5], dtype: 'float32' }))
  })
  it('Clip passes the gradient at a bound, as tfjs clipByValue does', async () => {
    const r = await checkGradient({
      nodes: [node('Clip', ['x', 'lo', 'hi'], ['y'])],
      input: { name: 'x', shape: [3] },
      initializers: { lo: { values: [0], dims: [] }, hi: { values: [1], dims: [] } },
      output: 'y',
      opset: 13,
      inputValues: [0, 0.5, 1]
    })
    expect(r.analytic.every((v) => v > 0.4)).toBe(true)
  })
  for (const [opset, axis, label] of [
    [13, -1, 'opset 13 last axis'],
    [13, 1, 'opset 13 middle axis'],
    [11, 1, 'opset 11 axis 1 (2-D coercion over axes 1..2)'],
    [11, 2, 'opset 11 axis 2'],
    [11, 0, 'opset 11 axis 0 (all axes)']
  ] as const) {
    it(`Softmax ${label}`, () => expectFd(unary('Softmax', { axis }, { opset })))
    it(`LogSoftmax ${label}`, () => expectFd(unary('LogSoftmax', { axis }, { opset })))
  }
})
