import { describe, expect, it } from 'vitest'
import { checkGradient, type FdCase, int64Tensor, node } from './fdHarness'

async function expectFd(c: FdCase): Promise<void> {
  const r = await checkGradient(c)
  expect(r.maxError).toBeLessThan(r.tolerance)
}

/** Reduce, then a nonlinearity, so the broadcast-back of the gradient is checked per element. */
function reduceCase(op: string, opset: number, axes: number[] | undefined, keepdims: number, axesAsInput: boolean): FdCase {
  const inputs = axesAsInput && axes ? ['x', 'ax'] : ['x']
  const attrs: Record<string, number | number[]> = { keepdims }
  if (!axesAsInput && axes) attrs.axes = axes
  return {
    nodes: [node('Mul', ['x', 'x'], ['sq']), { ...node(op, inputs, ['z'], attrs), inputs: inputs.map((i) => (i === 'x' ? 'sq' : i)) }, node('Tanh', ['z'], ['y'])],
    input: { name: 'x', shape: [2, 3, 4] },
    initializers: axesAsInput && axes ? { ax: int64Tensor(axes) } : {},
    output: 'y',
    opset
  }
}

describe('reduction gradients match finite differences', () => {
  for (const [op, axesInputFrom] of [
    ['ReduceSum', 13],
    ['ReduceMean', 18]
  ] as const) {
    for (const opset of [11, axesInputFrom]) {
      const asInput = opset >= axesInputFrom
      for (const [axes, keep] of [
        [[1], 1],
        [[0, 2], 0],
        [[-1], 0],
        [undefined, 0],
        [undefined, 1]
      ] as const) {
        it(`${op} opset ${opset} axes ${JSON.stringify(axes)} keepdims ${keep}`, () => expectFd(reduceCase(op, opset, axes as number[] | undefined, keep, asInput)))
      }
    }
  }
  it('ReduceSum with empty axes and noop_with_empty_axes passes the gradient through', () =>
    expectFd({
      nodes: [node('ReduceSum', ['x'], ['z'], { noop_with_empty_axes: 1 }), node('Tanh', ['z'], ['y'])],
      input: { name: 'x', shape: [2, 3] },
      output: 'y',
      opset: 13
    }))
})
