import { describe, expect, it } from 'vitest'
import { checkGradient, type FdCase, int64Tensor, node, randoms } from './fdHarness'

const values = (dims: number[], seed: number, lo = -1.5, hi = 1.5): { values: number[]; dims: number[] } => ({
  values: randoms(dims.reduce((a, b) => a * b, 1), seed, lo, hi),
  dims
})

async function expectFd(c: FdCase): Promise<void> {
  const r = await checkGradient(c)
  expect(r.analytic.length).toBe(r.numeric.length)
  expect(r.maxError).toBeLessThan(r.tolerance)
}

/** Binary op with the differentiated input on either side and a second input that also depends on it. */
function binaryCases(op: string): [string, FdCase][] {
  const cases: [string, FdCase][] = []
  const shapes: [number[], number[]][] = [
    [[2, 3, 4], [2, 3, 4]],
    [[2, 3, 4], [4]],
    [[2, 3, 4], [3, 1]],
    [[2, 1, 4], [1, 3, 1]],
    [[3, 4], []]
  ]
  for (const [sx, sc] of shapes) {
    const c = op === 'Div' ? values(sc, 3, 0.5, 2) : values(sc, 3)
    cases.push([`x${JSON.stringify(sx)} ${op} c${JSON.stringify(sc)}`, { nodes: [node(op, ['x', 'c'], ['y'])], input: { name: 'x', shape: sx }, initializers: { c }, output: 'y', opset: 13 }])
    cases.push([`c${JSON.stringify(sc)} ${op} x${JSON.stringify(sx)}`, {
      nodes: [node(op, ['c', 'x'], ['y'])],
      input: { name: 'x', shape: sx },
      initializers: { c },
      output: 'y',
      opset: 13,
      inputValues: op === 'Div' ? randoms(sx.reduce((a, b) => a * b, 1), 9, 0.5, 2) : undefined
    }])
  }
  // Both operands depend on x (gradients accumulate), one through a broadcast-reducing ReduceSum.
  cases.push([`x ${op} reduce(x) (accumulation)`, {
    nodes: [node('ReduceSum', ['x'], ['s'], { axes: [1], keepdims: 1 }), node('Exp', ['s'], ['e']), node(op, ['x', 'e'], ['y'])],
    input: { name: 'x', shape: [2, 3] },
    output: 'y',
    opset: 11,
    inputValues: randoms(6, 5, 0.1, 0.6)
  }])
  return cases
}

describe('elementwise gradients match finite differences', () => {
  for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
    for (const [name, c] of binaryCases(op)) it(name, () => expectFd(c))
  }

  it('Neg, Exp, Sqrt', () =>
    expectFd({
      nodes: [node('Neg', ['x'], ['a']), node('Exp', ['a'], ['b']), node('Sqrt', ['b'], ['y'])],
      input: { name: 'x', shape: [2, 5] },
      output: 'y',
      opset: 13
    }))

  it('Pow with a constant exponent (scalar and broadcast, int exponent)', async () => {
    await expectFd({
      nodes: [node('Pow', ['x', 'p'], ['y'])],
      input: { name: 'x', shape: [2, 3] },
      initializers: { p: { values: [2.5], dims: [] } },
      output: 'y',
      opset: 13,
      inputValues: randoms(6, 4, 0.3, 2)
    })
    await expectFd({
      nodes: [node('Pow', ['x', 'p'], ['y'])],
      input: { name: 'x', shape: [2, 3] },
      initializers: { p: int64Tensor([1, 2, 3], [3]) },
      output: 'y',
      opset: 13
    })
  })

  it('Sum of three broadcast operands, Identity, Dropout, Cast float, Expand', () =>
    expectFd({
      nodes: [
        node('Identity', ['x'], ['i']),
        node('Dropout', ['i'], ['d']),
        node('Cast', ['d'], ['c'], { to: 11 }),
        node('ReduceSum', ['c'], ['r'], { axes: [0], keepdims: 1 }),
        node('Expand', ['r'], ['e'], {}),
        node('Sum', ['c', 'e', 'k'], ['y'])
      ].map((n) => (n.opType === 'Expand' ? { ...n, inputs: ['r', 'shape'] } : n)),
      input: { name: 'x', shape: [2, 3] },
      initializers: { k: { values: [1, 2, 3], dims: [3] }, shape: int64Tensor([4, 2, 3]) },
      output: 'y',
      opset: 11
    }))
})
