import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { AppError } from '@common/errors'
import { addInputGradient, unsupportedOnPath } from '@main/engine/onnx/build'
import { describeGraph, gradientChecks, guessLayout, unsupportedOps } from '@main/engine/onnx/describe'
import { foldModel } from '@main/engine/onnx/fold'
import { encodeModel, type IrModel, type IrNode, int64Tensor, tensorNumbers } from '@main/engine/onnx/ir'
import { node, randoms } from './fdHarness'

const tensorAttr = (values: number[], dims: number[]) => ({ kind: 'tensor' as const, value: int64Tensor(values, dims) })

/**
 * A torchvision-style head: the Resize target size is computed from the feature map's shape
 * (Shape → Gather → Unsqueeze → Cast → Mul → Floor → Cast → Concat), with Constant nodes and an Identity.
 */
function shapeArithmeticModel(nodes: IrNode[] = []): IrModel {
  return {
    graph: {
      name: 'resize-by-shape',
      nodes: [
        node('Relu', ['input'], ['feat']),
        node('Identity', ['feat'], ['feat_id']),
        node('Shape', ['feat_id'], ['shape']),
        { ...node('Constant', [], ['two_idx']), attributes: { value: tensorAttr([2], []) } },
        { ...node('Constant', [], ['three_idx']), attributes: { value: tensorAttr([3], []) } },
        node('Gather', ['shape', 'two_idx'], ['h'], { axis: 0 }),
        node('Gather', ['shape', 'three_idx'], ['w'], { axis: 0 }),
        { ...node('Constant', [], ['axes0']), attributes: { value_ints: { kind: 'ints', value: [0] } } },
        node('Unsqueeze', ['h', 'axes0'], ['h1']),
        node('Unsqueeze', ['w', 'axes0'], ['w1']),
        node('Concat', ['h1', 'w1'], ['hw'], { axis: 0 }),
        node('Cast', ['hw'], ['hwf'], { to: 1 }),
        { ...node('Constant', [], ['scale']), attributes: { value_float: { kind: 'float', value: 2 } } },
        node('Mul', ['hwf', 'scale'], ['hw2f']),
        node('Floor', ['hw2f'], ['hw2ff']),
        node('Cast', ['hw2ff'], ['hw2'], { to: 7 }),
        node('Slice', ['shape', 'zero', 'two'], ['nc']),
        node('Concat', ['nc', 'hw2'], ['sizes'], { axis: 0 }),
        node('Resize', ['feat_id', '', '', 'sizes'], ['output'], { mode: 'nearest' }),
        ...nodes
      ],
      inputs: [{ name: 'input', dataType: 'float32', shape: ['batch', 3, 'height', 'width'] }],
      outputs: [{ name: 'output', dataType: 'float32', shape: null }],
      initializers: new Map([
        ['zero', int64Tensor([0])],
        ['two', int64Tensor([2])]
      ])
    },
    opset: 13,
    otherOpsets: [],
    irVersion: 7,
    producer: 'test'
  }
}

async function runModel(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<ort.Tensor> {
  const s = await ort.InferenceSession.create(bytes)
  try {
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, dims) })
    return out[s.outputNames[0]]
  } finally {
    await s.release()
  }
}

describe('folding at a fixed input size', () => {
  const dims = [2, 3, 3, 5]
  const x = Float32Array.from(randoms(90, 3, -1, 1))

  it('turns Shape→Gather→Unsqueeze→Concat→Resize arithmetic into constants and keeps the output', async () => {
    const original = shapeArithmeticModel()
    const folded = await foldModel(original, dims)
    expect(folded.model.graph.nodes.map((n) => n.opType)).toEqual(['Relu', 'Resize'])
    const sizes = folded.model.graph.nodes[1].inputs[3]
    expect(tensorNumbers(folded.model.graph.initializers.get(sizes)!)).toEqual([2, 3, 6, 10])
    expect(folded.shapes.get('output')).toEqual([2, 3, 6, 10])
    expect(folded.shapes.get('feat')).toEqual(dims)
    expect(folded.model.graph.inputs[0].shape).toEqual(dims)
    const want = await runModel(encodeModel(original), x, dims)
    const got = await runModel(encodeModel(folded.model), x, dims)
    expect(got.dims).toEqual(want.dims)
    expect(Array.from(got.data as Float32Array)).toEqual(Array.from(want.data as Float32Array))
  })

  it('at a batch above 3 (shapes from batches 2 and 3, folded values at the real batch) gets batch-dependent Reshape targets right', async () => {
    // y = Reshape(Softmax(Reshape(x, [B·C, H·W])), Shape(x)): the target [B·C, H·W] is computed from Shape(x).
    const m: IrModel = {
      graph: {
        name: 'flatten-batch',
        nodes: [
          node('Shape', ['input'], ['shape']),
          node('Gather', ['shape', 'i0'], ['b'], { axis: 0 }),
          node('Gather', ['shape', 'i1'], ['c'], { axis: 0 }),
          node('Mul', ['b', 'c'], ['bc']),
          node('Gather', ['shape', 'i2'], ['h'], { axis: 0 }),
          node('Gather', ['shape', 'i3'], ['w'], { axis: 0 }),
          node('Mul', ['h', 'w'], ['hw']),
          node('Concat', ['bc', 'hw'], ['target'], { axis: 0 }),
          node('Reshape', ['input', 'target'], ['flat']),
          node('Softmax', ['flat'], ['soft'], { axis: 1 }),
          node('Reshape', ['soft', 'shape'], ['output'])
        ],
        inputs: [{ name: 'input', dataType: 'float32', shape: ['batch', 3, 'height', 'width'] }],
        outputs: [{ name: 'output', dataType: 'float32', shape: null }],
        initializers: new Map([
          ['i0', int64Tensor([0])],
          ['i1', int64Tensor([1])],
          ['i2', int64Tensor([2])],
          ['i3', int64Tensor([3])]
        ])
      },
      opset: 13,
      otherOpsets: [],
      irVersion: 8,
      producer: 'test'
    }
    const big = [5, 3, 2, 4]
    const folded = await foldModel(m, big)
    expect(folded.model.graph.nodes.map((n) => n.opType)).toEqual(['Reshape', 'Softmax', 'Reshape'])
    expect(folded.shapes.get('flat')).toEqual([15, 8])
    expect(folded.shapes.get('output')).toEqual(big)
    expect(tensorNumbers(folded.model.graph.initializers.get('target')!)).toEqual([15, 8])
    const xb = Float32Array.from(randoms(120, 4, -1, 1))
    const want = await runModel(encodeModel(m), xb, big)
    const got = await runModel(encodeModel(folded.model), xb, big)
    expect(Array.from(got.data as Float32Array)).toEqual(Array.from(want.data as Float32Array))
  })

  it('refuses a size the graph fixes otherwise, and names a value that is NaN on the probe input', async () => {
    const fixed = shapeArithmeticModel()
    fixed.graph.inputs[0].shape = [1, 3, 3, 5]
    await expect(foldModel(fixed, dims)).rejects.toThrow(/fixed size 1×3×3×5/)
    const nan = shapeArithmeticModel()
    nan.graph.nodes.push(node('Neg', ['output'], ['negative']), node('Log', ['negative'], ['bad'], {}, 'log_of_negative'), node('Neg', ['bad'], ['y']))
    nan.graph.outputs = [{ name: 'y', dataType: 'float32', shape: null }]
    // The probe input is in [0, 1): the negated Resize output is ≤ 0 and its log NaN or −inf.
    await expect(foldModel(nan, dims)).rejects.toThrow(/'bad' of node 'log_of_negative' \(Log\) is NaN or infinite/)
  })
})

describe('gradient path checks', () => {
  const model = (): IrModel => {
    const m = shapeArithmeticModel([node('Erf', ['output'], ['e']), node('Abs', ['e'], ['a']), node('Add', ['a', 'output'], ['y']), node('Sin', ['output'], ['unused'])])
    m.graph.outputs = [{ name: 'y', dataType: 'float32', shape: null }]
    return m
  }

  it('lists every op without a rule on the input→output path at once, and none of the shape arithmetic or dead branches', () => {
    const missing = unsupportedOps(model())
    const names = missing.map((m) => `${m.opType}:${m.node}`)
    // Resize is the spatial rules' op: reported only while that registry lacks it.
    expect(names.filter((n) => !n.startsWith('Resize'))).toEqual(['Erf:Erf_e', 'Abs:Abs_a'])
    expect(names.some((n) => n.startsWith('Sin') || n.startsWith('Shape') || n.startsWith('Gather') || n.startsWith('Cast'))).toBe(false)
  })

  it('the builder refuses such a graph with one error naming all of them', async () => {
    const folded = await foldModel(model(), [1, 3, 3, 5])
    let err: unknown
    try {
      addInputGradient(folded.model, folded.shapes, { objective: 'y', wrt: 'input', gradientName: 'g' })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(AppError)
    expect((err as AppError).message).toMatch(/Erf \(node 'Erf_e'\).*Abs \(node 'Abs_a'\)/)
    expect(unsupportedOnPath(folded.model, 'y', 'input').length).toBeGreaterThanOrEqual(2)
  })

  it('an objective that does not depend on the input is MODEL_NO_GRADIENT_PATH', async () => {
    const m = shapeArithmeticModel()
    m.graph.nodes.push(node('Cast', ['shape'], ['shapef'], { to: 1 }), node('ReduceSum', ['shapef'], ['y'], { keepdims: 0 }))
    m.graph.outputs = [{ name: 'y', dataType: 'float32', shape: null }]
    const folded = await foldModel(m, [1, 3, 3, 5])
    folded.model.graph.outputs.push({ name: 'output', dataType: 'float32', shape: null })
    expect(() => addInputGradient(folded.model, folded.shapes, { objective: 'y', wrt: 'input', gradientName: 'g' })).toThrow(
      expect.objectContaining({ code: 'MODEL_NO_GRADIENT_PATH' })
    )
  })
})

describe('describing a graph', () => {
  it('reads layout, input and output, and counts ops', () => {
    const d = describeGraph(shapeArithmeticModel())
    expect(d.layout).toBe('NCHW')
    expect(d.input).toEqual({ name: 'input', shape: ['batch', 3, 'height', 'width'] })
    expect(d.output.name).toBe('output')
    expect(d.ops[0]).toEqual({ opType: 'Constant', count: 4 })
    expect(guessLayout([1, 3, 224, 224])).toBe('NCHW')
    expect(guessLayout(['n', 64, 64, 1])).toBe('NHWC')
    expect(guessLayout([1, 8, 8, 8])).toBeNull()
  })
})

describe('gradient import checks', () => {
  it('one error per unsupported op with its node, and a path check', () => {
    const m = shapeArithmeticModel([node('Erf', ['output'], ['e']), node('Abs', ['e'], ['y'])])
    m.graph.outputs = [{ name: 'y', dataType: 'float32', shape: null }]
    const checks = gradientChecks(m)
    const ops = checks.filter((c) => c.id === 'unsupported-op' && c.status === 'error' && c.node !== 'Resize_output')
    expect(ops.map((c) => [c.node, c.code])).toEqual([
      ['Erf_e', 'MODEL_UNSUPPORTED_OP'],
      ['Abs_y', 'MODEL_UNSUPPORTED_OP']
    ])
    expect(checks.find((c) => c.id === 'gradient-path')?.status).toBe('ok')
  })

  it('an output computed from the input shape only has no gradient path', () => {
    const m = shapeArithmeticModel([node('Cast', ['sizes'], ['y'], { to: 1 })])
    m.graph.outputs = [{ name: 'y', dataType: 'float32', shape: null }]
    const path = gradientChecks(m).find((c) => c.id === 'gradient-path')
    expect(path).toMatchObject({ status: 'error', code: 'MODEL_NO_GRADIENT_PATH' })
  })
})
