import { describe, expect, it } from 'vitest'
import { floatAttr } from '@main/engine/onnx/ir'
import { checkGradient, type FdCase, node, randoms } from './fdHarness'

async function expectFd(c: FdCase): Promise<void> {
  const r = await checkGradient(c)
  expect(r.maxError).toBeLessThan(r.tolerance)
}

const values = (dims: number[], seed: number): { values: number[]; dims: number[] } => ({ values: randoms(dims.reduce((a, b) => a * b, 1), seed), dims })

describe('MatMul and Gemm gradients match finite differences', () => {
  const shapes: [number[], number[]][] = [
    [[3, 4], [4, 2]],
    [[2, 3, 4], [4, 5]],
    [[2, 1, 3, 4], [3, 4, 2]],
    [[4], [4, 3]],
    [[2, 3, 4], [4]],
    [[4], [4]]
  ]
  for (const [sa, sb] of shapes) {
    it(`x${JSON.stringify(sa)} · c${JSON.stringify(sb)}`, () =>
      expectFd({ nodes: [node('MatMul', ['x', 'c'], ['y'])], input: { name: 'x', shape: sa }, initializers: { c: values(sb, 2) }, output: 'y', opset: 13 }))
  }
  const rightShapes: [number[], number[]][] = [
    [[3, 4], [4, 2]],
    [[5, 4], [2, 4, 3]],
    [[2, 1, 3, 4], [3, 4, 2]],
    [[4], [4, 3]],
    [[2, 3, 4], [4]]
  ]
  for (const [sc, sx] of rightShapes) {
    it(`c${JSON.stringify(sc)} · x${JSON.stringify(sx)} (x on the right)`, () =>
      expectFd({ nodes: [node('MatMul', ['c', 'x'], ['y'])], input: { name: 'x', shape: sx }, initializers: { c: values(sc, 3) }, output: 'y', opset: 13 }))
  }
  it('x · x (both operands depend on the input)', () => expectFd({ nodes: [node('MatMul', ['x', 'x'], ['y'])], input: { name: 'x', shape: [3, 3] }, output: 'y', opset: 13 }))

  for (const transA of [0, 1]) {
    for (const transB of [0, 1]) {
      it(`Gemm transA=${transA} transB=${transB}, alpha/beta, broadcast C; gradient to A, B and C`, async () => {
        const a = transA ? [4, 3] : [3, 4]
        const b = transB ? [2, 4] : [4, 2]
        const attrs = { transA, transB, alpha: floatAttr(0.7), beta: floatAttr(1.3) }
        // x feeds A (and through a fixed map B and C), so each of the three gradient paths is exercised.
        await expectFd({ nodes: [node('Gemm', ['x', 'cb', 'cc'], ['y'], attrs)], input: { name: 'x', shape: a }, initializers: { cb: values(b, 4), cc: values([2], 5) }, output: 'y', opset: 13 })
        await expectFd({ nodes: [node('Gemm', ['ca', 'x', 'cc'], ['y'], attrs)], input: { name: 'x', shape: b }, initializers: { ca: values(a, 6), cc: values([3, 1], 7) }, output: 'y', opset: 13 })
        await expectFd({
          nodes: [node('Gemm', ['ca', 'cb', 'x'], ['y'], attrs)],
          input: { name: 'x', shape: [1, 2] },
          initializers: { ca: values(a, 8), cb: values(b, 9) },
          output: 'y',
          opset: 13
        })
      })
    }
  }
  it('Gemm without C (opset 11)', () =>
    expectFd({ nodes: [node('Gemm', ['x', 'cb'], ['y'], { transB: 1 })], input: { name: 'x', shape: [3, 4] }, initializers: { cb: values([5, 4], 10) }, output: 'y', opset: 11 }))
})
