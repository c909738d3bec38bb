import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { AppError } from '@common/errors'
import type { InputSize, Layout, ModelInspection } from '@common/modelDescription'
import { decodeModel, OnnxFormatError, type IrModel } from '../engine/onnx/ir'

/** An ONNX file read and decoded once: its bytes (for the hash and the probe session) and its graph. */
export interface OnnxFile {
  path: string
  bytes: Uint8Array
  ir: IrModel
  hash: string
}

export async function readOnnxFile(path: string): Promise<OnnxFile> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    throw new AppError('MODEL_FILE_INVALID', `Cannot read ${path}: ${(err as Error).message}`, { path })
  }
  let ir: IrModel
  try {
    ir = decodeModel(bytes)
  } catch (err) {
    const why = err instanceof OnnxFormatError ? err.message : `not an ONNX model (${(err as Error).message})`
    throw new AppError('MODEL_FILE_INVALID', `${path}: ${why}`, { path })
  }
  if (ir.graph.inputs.length !== 1) {
    throw new AppError('MODEL_FILE_INVALID', `${path}: the graph has ${ir.graph.inputs.length} inputs (${ir.graph.inputs.map((i) => i.name).join(', ') || 'none'}); one image input is expected`, {
      path,
      inputs: ir.graph.inputs.map((i) => i.name)
    })
  }
  if (ir.graph.outputs.length === 0) throw new AppError('MODEL_FILE_INVALID', `${path}: the graph has no output`, { path })
  return { path, bytes, ir, hash: createHash('sha256').update(bytes).digest('hex') }
}

const isChannelCount = (d: number | string | null): boolean => typeof d === 'number' && d >= 1 && d <= 4

/**
 * The layout of a 4-d image input from its declared shape: PyTorch exports [N, C, H, W], TensorFlow ones
 * [N, H, W, C]. A small fixed size (1..4) on exactly one of the two candidate axes decides; otherwise NCHW is
 * assumed, because nearly every ONNX segmentation model comes from PyTorch.
 */
export function guessLayout(shape: (number | string | null)[] | null): { layout: Layout; source: 'graph' | 'assumed' } {
  if (shape && shape.length === 4) {
    const first = isChannelCount(shape[1])
    const last = isChannelCount(shape[3])
    if (first && !last) return { layout: 'NCHW', source: 'graph' }
    if (last && !first) return { layout: 'NHWC', source: 'graph' }
  }
  return { layout: 'NCHW', source: 'assumed' }
}

/** The input size the graph fixes, when height, width and channels are all numbers. */
export function fixedInputSize(shape: (number | string | null)[] | null, layout: Layout): InputSize | null {
  if (!shape || shape.length !== 4) return null
  const [h, w, c] = layout === 'NCHW' ? [shape[2], shape[3], shape[1]] : [shape[1], shape[2], shape[3]]
  return typeof h === 'number' && typeof w === 'number' && typeof c === 'number' ? { height: h, width: w, channels: c } : null
}

/** What the file says about itself, before any description: names, shapes, layout guess, ops and opset. */
export function inspectOnnx(file: OnnxFile, layoutFlag?: Layout): ModelInspection {
  const g = file.ir.graph
  const input = g.inputs[0]
  const output = g.outputs[0]
  const guess = guessLayout(input.shape)
  const layout = layoutFlag ?? guess.layout
  const counts = new Map<string, number>()
  for (const n of g.nodes) {
    const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType
    counts.set(op, (counts.get(op) ?? 0) + 1)
  }
  return {
    path: file.path,
    runtime: 'onnx',
    modelFormat: 'onnx',
    fileBytes: file.bytes.byteLength,
    contentHash: file.hash,
    inputName: input.name,
    inputShape: input.shape,
    outputName: output.name,
    outputShape: output.shape,
    layout,
    layoutSource: layoutFlag ? 'flag' : guess.source,
    fixedInput: fixedInputSize(input.shape, layout),
    opset: file.ir.opset,
    producer: file.ir.producer || null,
    ops: [...counts].map(([opType, count]) => ({ opType, count })).sort((a, b) => b.count - a.count || a.opType.localeCompare(b.opType)),
    described: false
  }
}
