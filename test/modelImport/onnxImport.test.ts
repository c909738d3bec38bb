import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { isAppError } from '../../src/common/errors'
import { describeModel, ensureDescribed, examineModel } from '../../src/main/modelImport'
import { firstFailure } from '../../src/main/modelImport/onnxChecks'
import { guessLayout } from '../../src/main/modelImport/onnxInspect'
import { tempDir } from '../helpers/tempdir'
import { writeTinyOnnx } from './onnxFixtures'

const dir = tempDir()
afterAll(() => dir.cleanup())

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; details: unknown }> {
  try {
    await p
  } catch (err) {
    if (isAppError(err)) return { code: err.code, message: err.message, details: err.details }
    throw err
  }
  throw new Error('expected an AppError')
}

describe('inspecting an ONNX file', () => {
  it('reads input, output, ops, opset and an NCHW layout from a PyTorch-style graph', async () => {
    const path = writeTinyOnnx(dir.file('nchw.onnx'), { height: 8, width: 12, channels: 3, classes: 4 })
    const { inspection, checks } = await examineModel(path)
    expect(inspection).toMatchObject({
      runtime: 'onnx',
      inputName: 'image',
      inputShape: [1, 3, 8, 12],
      layout: 'NCHW',
      layoutSource: 'graph',
      fixedInput: { height: 8, width: 12, channels: 3 },
      opset: 13,
      producer: 'pytorch',
      described: false
    })
    expect(inspection.contentHash).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'))
    expect(inspection.ops.map((o) => o.opType).sort()).toEqual(['Conv', 'Identity', 'Softmax'])
    // Without classes the probe still runs and says how many classes the list must have.
    expect(checks.find((c) => c.id === 'output-channels')).toMatchObject({ status: 'warning', message: expect.stringContaining('4 output channels') })
  })

  it('reads NHWC from a TensorFlow-style graph', async () => {
    const path = writeTinyOnnx(dir.file('nhwc.onnx'), { height: 6, width: 10, channels: 1, layout: 'NHWC', classes: 2 })
    const { inspection, checks } = await examineModel(path, { classes: ['bg', 'fg'], normalise: 'range:0,1' })
    expect(inspection).toMatchObject({ layout: 'NHWC', layoutSource: 'graph', fixedInput: { height: 6, width: 10, channels: 1 } })
    expect(checks.filter((c) => c.status === 'error')).toEqual([])
    expect(checks.find((c) => c.id === 'output-channels')?.status).toBe('ok')
  })

  it('says the layout is assumed when the shape does not decide it', () => {
    expect(guessLayout([1, 3, 'h', 'w'])).toEqual({ layout: 'NCHW', source: 'graph' })
    expect(guessLayout(['n', 'h', 'w', 3])).toEqual({ layout: 'NHWC', source: 'graph' })
    expect(guessLayout(['n', 'c', 'h', 'w'])).toEqual({ layout: 'NCHW', source: 'assumed' })
    expect(guessLayout([1, 3, 4, 3])).toEqual({ layout: 'NCHW', source: 'assumed' })
  })

  it('refuses a file that is not ONNX, naming it', async () => {
    const path = dir.file('junk.onnx')
    writeFileSync(path, 'definitely not protobuf \xff\xff\xff')
    const e = await failure(examineModel(path))
    expect(e.code).toBe('MODEL_FILE_INVALID')
    expect(e.message).toContain(path)
  })
})

describe('describing an ONNX file', () => {
  it('writes <file>.onnx.ctxlens.json with the hash, and later commands need only the file', async () => {
    const path = writeTinyOnnx(dir.file('good.onnx'), { classes: 19, height: 8, width: 16 })
    const { description, path: written } = await describeModel(path, { classes: 'cityscapes', normalise: 'imagenet' })
    expect(written).toBe(`${path}.ctxlens.json`)
    const onDisk = JSON.parse(readFileSync(written, 'utf8'))
    expect(onDisk).toMatchObject({
      modelFormat: 'onnx',
      name: 'good',
      contentHash: createHash('sha256').update(readFileSync(path)).digest('hex'),
      input: { height: 8, width: 16, channels: 3 },
      layout: 'NCHW',
      layoutSource: 'graph',
      inputName: 'image',
      outputName: 'output',
      output: 'probabilities',
      outputStride: 1,
      ignoreId: 255
    })
    expect(onDisk.classes).toHaveLength(19)
    expect(description.contentHash).toBe(onDisk.contentHash)
    expect((await ensureDescribed(path)).contentHash).toBe(onDisk.contentHash)
  })

  it('guesses logits from the probe and says so', async () => {
    const path = writeTinyOnnx(dir.file('logits.onnx'), { logits: true, classes: 2 })
    const { description, examination } = await describeModel(path, { classes: ['a', 'b'], normalise: 'range:0,1' })
    expect(description.output).toBe('logits')
    expect(examination.checks.find((c) => c.id === 'output-kind')).toMatchObject({ status: 'warning', message: expect.stringContaining('assumed to be logits') })
  })

  it('refuses a file changed since its description', async () => {
    const path = writeTinyOnnx(dir.file('changed.onnx'), { classes: 2 })
    await describeModel(path, { classes: ['a', 'b'], normalise: 'range:0,1' })
    writeTinyOnnx(path, { classes: 2, stride: 2 })
    const e = await failure(ensureDescribed(path))
    expect(e.code).toBe('MODEL_FILE_INVALID')
    expect(e.message).toContain('content hash differs')
  })

  it('asks for the flags still missing', async () => {
    const path = writeTinyOnnx(dir.file('bare.onnx'))
    const e = await failure(ensureDescribed(path))
    expect(e.code).toBe('INVALID_PARAMETERS')
    expect(e.message).toContain('--classes, --normalise')
    expect(existsSync(`${path}.ctxlens.json`)).toBe(false)
  })
})

describe('import checks', () => {
  it('output channels ≠ class count names the file and the output node', async () => {
    const path = writeTinyOnnx(dir.file('five.onnx'), { classes: 5 })
    const e = await failure(describeModel(path, { classes: 'voc', normalise: 'range:0,1' }))
    expect(e.code).toBe('MODEL_OUTPUT_MISMATCH')
    expect(e.message).toContain(path)
    expect(e.message).toContain('has 5 channels')
    expect(e.message).toContain('21 classes')
    expect(e.details).toMatchObject({ check: 'output-channels', node: 'output' })
    expect(existsSync(`${path}.ctxlens.json`)).toBe(false)
  })

  it('an output at an integer factor of the input is accepted and will be upsampled', async () => {
    const path = writeTinyOnnx(dir.file('stride2.onnx'), { height: 8, width: 12, stride: 2 })
    const { description, examination } = await describeModel(path, { classes: ['a', 'b', 'c'], normalise: 'range:0,1' })
    expect(description.outputStride).toBe(2)
    expect(examination.checks.find((c) => c.id === 'output-resolution')).toMatchObject({ status: 'warning', message: expect.stringContaining('upsampled') })
  })

  it('an output that is not per-pixel at an integer factor is refused', async () => {
    const path = writeTinyOnnx(dir.file('shrink.onnx'), { height: 8, width: 8, shrink: true })
    const e = await failure(describeModel(path, { classes: ['a', 'b', 'c'], normalise: 'range:0,1' }))
    expect(e.code).toBe('MODEL_OUTPUT_MISMATCH')
    expect(e.message).toContain('is 6×6 for a 8×8 input')
    expect(e.message).toContain(path)
  })

  it('NaN or Inf on the probe input is refused', async () => {
    const path = writeTinyOnnx(dir.file('nan.onnx'), { nonFinite: true })
    const e = await failure(describeModel(path, { classes: ['a', 'b', 'c'], normalise: 'range:0,1' }))
    expect(e.code).toBe('MODEL_NOT_FINITE')
    expect(e.message).toContain(path)
    expect(e.details).toMatchObject({ node: 'output' })
  })

  it('an input of unknown size needs --input, and then is probed at that size', async () => {
    const path = writeTinyOnnx(dir.file('dynamic.onnx'), { height: 'height', width: 'width' })
    const e = await failure(describeModel(path, { classes: ['a', 'b', 'c'], normalise: 'range:0,1' }))
    expect(e.code).toBe('MODEL_INPUT_SIZE_UNKNOWN')
    expect(e.message).toContain('--input')
    expect(e.details).toMatchObject({ node: 'image' })
    const { description } = await describeModel(path, { classes: ['a', 'b', 'c'], normalise: 'range:0,1', input: '16x24x3' })
    expect(description.input).toEqual({ height: 16, width: 24, channels: 3 })
  })

  it('--input that contradicts the graph is refused', async () => {
    const path = writeTinyOnnx(dir.file('fixed.onnx'), { height: 8, width: 8 })
    const e = await failure(describeModel(path, { classes: ['a', 'b', 'c'], normalise: 'range:0,1', input: '16x16x3' }))
    expect(e.code).toBe('INVALID_PARAMETERS')
    expect(e.message).toContain("disagrees with the graph's fixed input 8×8×3")
  })

  it('--layout that contradicts the input shape, and --input channels the graph does not take, are refused', async () => {
    const path = writeTinyOnnx(dir.file('layout.onnx'), { height: 8, width: 8 })
    const e = await failure(describeModel(path, { classes: ['a', 'b', 'c'], normalise: 'range:0,1', layout: 'NHWC' }))
    expect(e.code).toBe('INVALID_PARAMETERS')
    expect(e.message).toContain('--layout NHWC disagrees with input "image" [1,3,8,8], which reads as NCHW')
    const dynamic = writeTinyOnnx(dir.file('dynamic-gray.onnx'), { height: 'h', width: 'w', channels: 1 })
    const c = await failure(describeModel(dynamic, { classes: ['a', 'b', 'c'], normalise: 'range:0,1', input: '8x8x3' }))
    expect(c.code).toBe('INVALID_PARAMETERS')
    expect(c.message).toContain('--input gives 3 channels but input "image" takes 1')
  })

  it('probabilities claimed for a logits output are refused', async () => {
    const path = writeTinyOnnx(dir.file('claims.onnx'), { logits: true })
    const e = await failure(describeModel(path, { classes: ['a', 'b', 'c'], normalise: 'range:0,1', output: 'probabilities' }))
    expect(e.code).toBe('MODEL_NOT_PROBABILITIES')
    expect(e.message).toContain('--output logits')
  })

  it('a class file that does not exist is named', async () => {
    const path = writeTinyOnnx(dir.file('classfile.onnx'))
    const e = await failure(describeModel(path, { classes: dir.file('nope.json'), normalise: 'range:0,1' }))
    expect(e.code).toBe('INVALID_PARAMETERS')
    expect(e.message).toContain('nope.json')
  })
})

describe('the gradient builder\'s checks', () => {
  it('a failing check it reports becomes the AppError adding raises, with its code and node', () => {
    // The shape onnxGradientChecks passes on from the builder: an op without a backward rule.
    const e = firstFailure([
      { id: 'input-size', status: 'ok', message: 'fine' },
      { id: 'unsupported-op', status: 'error', code: 'MODEL_UNSUPPORTED_OP', node: '/decoder/NonMaxSuppression_3', message: 'm.onnx: op NonMaxSuppression (node /decoder/NonMaxSuppression_3) has no gradient rule' }
    ])
    expect(e?.code).toBe('MODEL_UNSUPPORTED_OP')
    expect(e?.message).toContain('NonMaxSuppression')
    expect(e?.details).toMatchObject({ check: 'unsupported-op', node: '/decoder/NonMaxSuppression_3' })
    expect(firstFailure([{ id: 'output-kind', status: 'warning', message: 'assumed logits' }])).toBeNull()
  })
})
