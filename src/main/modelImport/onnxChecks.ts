import * as ort from 'onnxruntime-node'
import { AppError } from '@common/errors'
import type { InputSize, Layout, ModelCheck, OutputKind } from '@common/modelDescription'
import { normalisationAffine, type Normalisation } from '@common/modelSidecar'
import type { ClassDef } from '@common/types'
import { uniform01 } from '../prng'
import { onnxGradientChecks } from './gradientCheck'
import type { OnnxFile } from './onnxInspect'

export interface OnnxCheckInput {
  layout: Layout
  /** The input size to probe at: the graph's own or the user's --input; null when neither fixes it. */
  input: InputSize | null
  /** Null when the user has not said yet (inspect before describing). */
  classes: ClassDef[] | null
  normalisation: Normalisation | null
  /** What the user said the output is; when left out the probe decides. */
  output?: OutputKind
}

export interface OnnxCheckResult {
  checks: ModelCheck[]
  /** The probe's output dims as ONNX Runtime produced them. */
  outputDims: number[] | null
  outputStride: number | null
  /** The output kind: the user's, or the probe's reading of it. */
  output: OutputKind | null
}

const PROB_TOLERANCE = 1e-4
const SUM_TOLERANCE = 1e-3

/** The same fixed pseudo-random image on every run, spanning the normalised input range, in the model's layout. */
function probeTensor(input: InputSize, layout: Layout, batch: number, normalisation: Normalisation | null): ort.Tensor {
  const { height, width, channels } = input
  const range = normalisation ? normalisationAffine(normalisation, channels) : { min: new Array(channels).fill(0), max: new Array(channels).fill(1) }
  const per = height * width * channels
  const data = new Float32Array(per * batch)
  const u = uniform01(0x9e3779b9)
  for (let i = 0; i < per; i++) {
    // i runs over [h, w, c]; the value lands where the layout puts it.
    const c = i % channels
    const p = (i - c) / channels
    const v = range.min[c] + (range.max[c] - range.min[c]) * u()
    const at = layout === 'NHWC' ? i : c * height * width + p
    for (let b = 0; b < batch; b++) data[b * per + at] = v
  }
  const dims = layout === 'NHWC' ? [batch, height, width, channels] : [batch, channels, height, width]
  return new ort.Tensor('float32', data, dims)
}

/**
 * The import checks of an ONNX model, all of them rather than the first failure, so the dialog can show them
 * together: input size known, one probe forward pass on ONNX Runtime (finite output), output channels = classes,
 * output at the input resolution or an integer factor of it, logits or probabilities, and the gradient builder's.
 */
export async function onnxChecks(file: OnnxFile, opts: OnnxCheckInput): Promise<OnnxCheckResult> {
  const checks: ModelCheck[] = [...onnxGradientChecks(file.ir)]
  const result: OnnxCheckResult = { checks, outputDims: null, outputStride: null, output: opts.output ?? null }
  const inputName = file.ir.graph.inputs[0].name
  const outputName = file.ir.graph.outputs[0].name

  if (!opts.input) {
    checks.push({
      id: 'input-size',
      status: 'error',
      code: 'MODEL_INPUT_SIZE_UNKNOWN',
      node: inputName,
      message: `${file.path}: input "${inputName}" has no fixed size (${JSON.stringify(file.ir.graph.inputs[0].shape)}); give the size the model was trained at with --input HxWxC`
    })
    return result
  }
  const inputType = file.ir.graph.inputs[0].dataType
  if (inputType !== 'float32') {
    checks.push({ id: 'input-size', status: 'error', code: 'MODEL_FILE_INVALID', node: inputName, message: `${file.path}: input "${inputName}" is ${inputType}; a float32 image input is expected` })
    return result
  }
  checks.push({ id: 'input-size', status: 'ok', node: inputName, message: `Input "${inputName}": ${opts.input.height}×${opts.input.width}×${opts.input.channels}, ${opts.layout}` })

  const declared = file.ir.graph.inputs[0].shape
  const batch = declared && typeof declared[0] === 'number' ? declared[0] : 1
  let session: ort.InferenceSession | null = null
  let out: ort.Tensor
  try {
    session = await ort.InferenceSession.create(file.bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' })
    const feeds = { [inputName]: probeTensor(opts.input, opts.layout, batch, opts.normalisation) }
    out = (await session.run(feeds, [outputName]))[outputName]
  } catch (err) {
    checks.push({
      id: 'probe-finite',
      status: 'error',
      code: 'MODEL_FILE_INVALID',
      node: inputName,
      message: `${file.path}: ONNX Runtime could not run the model on a ${opts.input.height}×${opts.input.width}×${opts.input.channels} ${opts.layout} probe input: ${(err as Error).message}`
    })
    return result
  } finally {
    await session?.release()
  }

  const dims = out.dims.map(Number)
  result.outputDims = dims
  const data = out.data as Float32Array
  if (out.type !== 'float32') {
    checks.push({ id: 'output-channels', status: 'error', code: 'MODEL_OUTPUT_MISMATCH', node: outputName, message: `${file.path}: output "${outputName}" is ${out.type}, not a float32 class map (a model ending in ArgMax gives labels, not scores)` })
    return result
  }
  let bad = 0
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) bad++
  checks.push(
    bad > 0
      ? { id: 'probe-finite', status: 'error', code: 'MODEL_NOT_FINITE', node: outputName, message: `${file.path}: output "${outputName}" has ${bad} NaN or infinite values (of ${data.length}) on a probe input in the normalised input range` }
      : { id: 'probe-finite', status: 'ok', node: outputName, message: `A probe forward pass on ONNX Runtime gives finite output ${JSON.stringify(dims)}` }
  )

  if (dims.length !== 4) {
    checks.push({ id: 'output-resolution', status: 'error', code: 'MODEL_OUTPUT_MISMATCH', node: outputName, message: `${file.path}: output "${outputName}" has shape ${JSON.stringify(dims)}; a per-pixel class map of rank 4 (${opts.layout}) is expected` })
    return result
  }
  const [k, oh, ow] = opts.layout === 'NCHW' ? [dims[1], dims[2], dims[3]] : [dims[3], dims[1], dims[2]]
  if (opts.classes) {
    const n = opts.classes.length
    checks.push(
      k === n
        ? { id: 'output-channels', status: 'ok', node: outputName, message: `${k} output channels, one per class` }
        : { id: 'output-channels', status: 'error', code: 'MODEL_OUTPUT_MISMATCH', node: outputName, message: `${file.path}: output "${outputName}" has ${k} channels (shape ${JSON.stringify(dims)}, ${opts.layout}) but the class list has ${n} classes` }
    )
  } else {
    checks.push({ id: 'output-channels', status: 'warning', node: outputName, message: `${k} output channels: the class list must name ${k} classes` })
  }

  const { height: h, width: w } = opts.input
  if (oh === h && ow === w) {
    result.outputStride = 1
    checks.push({ id: 'output-resolution', status: 'ok', node: outputName, message: `Output at the input resolution ${h}×${w}` })
  } else if (oh > 0 && ow > 0 && h % oh === 0 && w % ow === 0 && h / oh === w / ow) {
    result.outputStride = h / oh
    checks.push({ id: 'output-resolution', status: 'warning', node: outputName, message: `Output is ${oh}×${ow}, 1/${h / oh} of the input ${h}×${w}: it will be upsampled bilinearly to the input resolution` })
  } else {
    checks.push({
      id: 'output-resolution',
      status: 'error',
      code: 'MODEL_OUTPUT_MISMATCH',
      node: outputName,
      message: `${file.path}: output "${outputName}" is ${oh}×${ow} for a ${h}×${w} input: not a per-pixel map at the input resolution or an integer factor of it`
    })
  }

  if (bad === 0 && k > 1) {
    // Per pixel: values in [0, 1] summing to 1 over the channel axis.
    const spatial = oh * ow
    let min = Infinity
    let max = -Infinity
    let sumErr = 0
    for (let p = 0; p < spatial; p++) {
      let sum = 0
      for (let c = 0; c < k; c++) {
        const v = opts.layout === 'NCHW' ? data[c * spatial + p] : data[p * k + c]
        sum += v
        if (v < min) min = v
        if (v > max) max = v
      }
      sumErr = Math.max(sumErr, Math.abs(sum - 1))
    }
    const looksLikeProbabilities = min >= -PROB_TOLERANCE && max <= 1 + PROB_TOLERANCE && sumErr <= SUM_TOLERANCE
    if (opts.output === 'probabilities' && !looksLikeProbabilities) {
      checks.push({
        id: 'output-kind',
        status: 'error',
        code: 'MODEL_NOT_PROBABILITIES',
        node: outputName,
        message: `${file.path}: output "${outputName}" was described as probabilities but ranges over [${min.toPrecision(4)}, ${max.toPrecision(4)}] with channel sums off by up to ${sumErr.toPrecision(3)}: describe it as --output logits`
      })
    } else if (opts.output) {
      checks.push({ id: 'output-kind', status: 'ok', node: outputName, message: `Output: ${opts.output}${opts.output === 'logits' ? ' (a softmax over classes is applied)' : ''}` })
    } else {
      result.output = looksLikeProbabilities ? 'probabilities' : 'logits'
      checks.push({
        id: 'output-kind',
        status: 'warning',
        node: outputName,
        message: looksLikeProbabilities
          ? 'Output assumed to be probabilities (the probe output sums to 1 per pixel); set the output kind (--output) if not'
          : `Output assumed to be logits (the probe output ranges over [${min.toPrecision(3)}, ${max.toPrecision(3)}]); a softmax over classes is applied`
      })
    }
  }
  return result
}

/** The first failing check as the AppError adding the model raises; nothing when every check passed. */
export function firstFailure(checks: ModelCheck[]): AppError | null {
  const failed = checks.find((c) => c.status === 'error')
  if (!failed) return null
  return new AppError((failed.code ?? 'MODEL_FILE_INVALID') as AppError['code'], failed.message, { check: failed.id, ...(failed.node ? { node: failed.node } : {}), checks })
}
