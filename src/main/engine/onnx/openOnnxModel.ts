import { readFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { AppError } from '@common/errors'
import { type Normalisation, normalisationAffine } from '@common/modelSidecar'
import { modelFileHash, readModelDescription } from '../../modelImport'
import { decodeModel, OnnxFormatError } from './ir'
import { OnnxSegmentationModel, type OnnxProvider } from './onnxSegmentationModel'
import { envOnnxThreads, onnxProvider } from './threads'

/** What Context Lens must know about an ONNX file that the file does not say (its description, or flags). */
export interface OnnxModelSpec {
  classes: { id: number }[]
  input: { height: number | null; width: number | null; channels: number }
  normalisation: Normalisation
  layout: 'NCHW' | 'NHWC'
  output: 'logits' | 'probabilities'
}

export interface OnnxRuntimeOptions {
  /** intra-op threads per session; default: onnxThreads(). */
  threads?: number
  provider?: OnnxProvider
}

/**
 * The intra-op thread count for ONNX sessions in this process. The engine pool sets CTXLENS_ONNX_THREADS in each
 * worker to cores ÷ workers, so workers × threads uses every core without oversubscribing them; a process outside
 * the pool (CLI in-process runs, tests) uses all cores.
 */
export function onnxThreads(): number {
  return envOnnxThreads() ?? Math.max(1, cpus().length)
}

export async function openOnnxModel(file: string, spec: OnnxModelSpec, options: OnnxRuntimeOptions = {}): Promise<OnnxSegmentationModel> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(file)
  } catch (err) {
    throw new AppError('MODEL_FILE_INVALID', `${file}: cannot read the model file (${(err as NodeJS.ErrnoException).code ?? String(err)})`)
  }
  let model
  try {
    model = decodeModel(bytes)
  } catch (err) {
    if (err instanceof OnnxFormatError) throw new AppError('MODEL_FILE_INVALID', `${file}: ${err.message}`)
    throw err
  }
  const { min, max } = normalisationAffine(spec.normalisation, spec.input.channels)
  return new OnnxSegmentationModel(model, {
    source: file,
    description: { layout: spec.layout, output: spec.output, numClasses: spec.classes.length },
    inputShape: [spec.input.height, spec.input.width, spec.input.channels],
    inputRange: [Math.min(...min), Math.max(...max)],
    classIds: spec.classes.map((c) => c.id),
    threads: options.threads ?? onnxThreads(),
    provider: options.provider ?? onnxProvider()
  })
}

/**
 * A described .onnx file (`<file>.onnx.ctxlens.json`, written by `ctxlens models describe|add` or the Add-model
 * dialog) opened on ONNX Runtime. The description must be of these bytes: weights replaced after describing
 * would otherwise be explained with another model's class list.
 */
export async function openDescribedOnnxModel(file: string, options: OnnxRuntimeOptions = {}): Promise<OnnxSegmentationModel> {
  const description = await readModelDescription(file)
  const hash = await modelFileHash(file)
  if (description.contentHash !== hash) {
    throw new AppError('MODEL_FILE_INVALID', `${file} changed after it was described (its hash is not the one in its description): describe it again with \`ctxlens models describe\``, { file })
  }
  const { height, width, channels } = description.input
  return openOnnxModel(
    file,
    {
      classes: description.classes,
      input: { height, width, channels },
      normalisation: description.normalisation,
      layout: description.layout ?? 'NCHW',
      output: description.output ?? 'probabilities'
    },
    options
  )
}
