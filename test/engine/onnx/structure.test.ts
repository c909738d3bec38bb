import { describe, expect, it } from 'vitest'
import { sliceIndices } from '@main/engine/onnx/vjp/structure'
import { checkGradient, type FdCase, int64Tensor, node } from './fdHarness'

async function expectFd(c: FdCase): Promise<void> {
  const r = await checkGradient(c)
  expect(r.maxError).toBeLessThan(r.tolerance)
}

/** A nonlinearity after the op, so a gradient routed to the wrong element shows. */
const withTanh = (nodes: FdCase['nodes']): FdCase['nodes'] => [...nodes, node('Tanh', ['z'], ['y'])]

describe('data-movement gradients match finite differences', () => {
  it('Transpose with a permutation and with the default (reversed) one', async () => {
    await expectFd({ nodes: withTanh([node('Transpose', ['x'], ['z'], { perm: [1, 2, 0] })]), input: { name: 'x', shape: [2, 3, 4] }, output: 'y', opset: 13 })
    await expectFd({ nodes: withTanh([node('Transpose', ['x'], ['z'])]), input: { name: 'x', shape: [2, 3, 4] }, output: 'y', opset: 13 })
  })
  it('Reshape, Flatten, Squeeze/Unsqueeze with axes as attribute (opset 11) and input (opset 13)', async () => {
    await expectFd({
      nodes: withTanh([
        node('Reshape', ['x', 's'], ['a']),
        node('Flatten', ['a'], ['b'], { axis: 2 }),
        node('Unsqueeze', ['b'], ['c'], { axes: [0] }),
        node('Squeeze', ['c'], ['z'], { axes: [0] })
      ]),
      input: { name: 'x', shape: [2, 3, 4] },
      initializers: { s: int64Tensor([4, 3, 2]) },
      output: 'y',
      opset: 11
    })
    await expectFd({
      nodes: withTanh([node('Unsqueeze', ['x', 'ax'], ['c']), node('Squeeze', ['c', 'ax'], ['z'])]),
      input: { name: 'x', shape: [2, 3] },
      initializers: { ax: int64Tensor([1]) },
      output: 'y',
      opset: 13
    })
  })
  it('Concat of the input with itself and a constant, on a negative axis', () =>
    expectFd({
      nodes: withTanh([node('Relu', ['x'], ['r']), node('Concat', ['x', 'k', 'r'], ['z'], { axis: -1 })]),
      input: { name: 'x', shape: [2, 3] },
      initializers: { k: { values: [1, 2], dims: [2, 1] } },
      output: 'y',
      opset: 13,
      kinks: [0]
    }))
  for (const opset of [11, 13, 18]) {
    it(`Split with sizes (opset ${opset}), one output unused`, () =>
      expectFd({
        nodes: [
          opset >= 13
            ? node('Split', ['x', 'sizes'], ['a', 'b', 'c'], { axis: 1 })
            : node('Split', ['x'], ['a', 'b', 'c'], { axis: 1, split: [1, 3, 2] }),
          node('Tanh', ['a'], ['ta']),
          node('Mul', ['c', 'c'], ['cc']),
          node('Concat', ['ta', 'cc'], ['y'], { axis: 1 })
        ],
        input: { name: 'x', shape: [2, 6] },
        initializers: opset >= 13 ? { sizes: int64Tensor([1, 3, 2]) } : {},
        output: 'y',
        opset
      }))
  }
  it('Split into equal parts without sizes', () =>
    expectFd({
      nodes: [node('Split', ['x'], ['a', 'b'], { axis: 0 }), node('Mul', ['a', 'b'], ['y'])],
      input: { name: 'x', shape: [4, 3] },
      output: 'y',
      opset: 13
    }))
  it('slice indices follow the ONNX clamping rules', () => {
    expect(sliceIndices(5, 1, 4, 1)).toEqual([1, 2, 3])
    expect(sliceIndices(5, -1, -6, -1)).toEqual([4, 3, 2, 1, 0])
    expect(sliceIndices(5, 10, -100, -2)).toEqual([4, 2, 0])
    expect(sliceIndices(5, 0, 2 ** 62, 2)).toEqual([0, 2, 4])
    expect(sliceIndices(5, 3, 1, 1)).toEqual([])
  })
  const sliceCases: [string, number[], number[], number[], number[]][] = [
    ['unit steps on two axes', [1, 0], [3, -1], [0, 2], [1, 1]],
    ['stride 2', [0], [6], [1], [2]],
    ['negative step (reverse)', [-1], [-100], [2], [-1]],
    ['negative stride with clamped start', [100], [0], [1], [-2]],
    ['axes omitted-like full range and stride 3 on the last axis', [0, 1], [2, 5], [0, 2], [1, 3]]
  ]
  for (const [label, starts, ends, axes, steps] of sliceCases) {
    it(`Slice: ${label}`, () =>
      expectFd({
        nodes: withTanh([node('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['z'])]),
        input: { name: 'x', shape: [3, 6, 5] },
        initializers: { st: int64Tensor(starts), en: int64Tensor(ends), ax: int64Tensor(axes), sp: int64Tensor(steps) },
        output: 'y',
        opset: 13
      }))
  }
  it('Slice with attributes (opset 9)', () =>
    expectFd({
      nodes: withTanh([node('Slice', ['x'], ['z'], { starts: [1, 0], ends: [3, 2], axes: [0, 2] })]),
      input: { name: 'x', shape: [3, 4, 5] },
      output: 'y',
      opset: 9,
      dtype: 'float32'
    }))
})
