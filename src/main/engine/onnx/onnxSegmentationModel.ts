import * as ort from 'onnxruntime-node'
import { AppError } from '@common/errors'
import type {
  BatchGeometry,
  OpenedSegmentationModel,
  PerturbationStepArgs,
  PerturbationStepResult,
  ScoreGradientArgs,
  ScoreGradientResult
} from '../segmentationModel'
import { type FoldedModel, foldModel } from './fold'
import { encodeModel, type IrModel } from './ir'
import { composeObjective, modelInputDims, type ObjectiveGeometry, type ObjectiveKind, type OnnxModelDescription } from './objectives'

export type OnnxProvider = 'cpu' | 'cuda'

export interface OnnxModelOptions {
  /** The model file, for error messages. */
  source: string
  description: OnnxModelDescription
  /** [H, W, C]; null H/W for models that take any size (the graph is then folded per request size). */
  inputShape: [number | null, number | null, number]
  /** Range of the model's input units (after normalisation); perturbed images are clipped to it. */
  inputRange: [number, number]
  /** Class id of each output channel. */
  classIds: number[]
  /** intra-op threads per session: cores ÷ pool workers, so workers × threads does not oversubscribe the cores. */
  threads?: number
  provider?: OnnxProvider
}

/** Sessions kept per model: each holds its graph's weights and ORT's buffers, so a few geometries at most. */
const SESSION_CAPACITY = 8

/**
 * A user's ONNX model behind the runtime-agnostic SegmentationModel. ONNX Runtime computes no gradients for
 * inference graphs, so every call runs a graph Context Lens built from the model (objectives.ts): prediction, the
 * Eq. 2/3 step with its mask gradient, or the request score with its input gradient. Graphs are built for a fixed
 * batch and size (folding needs it), and built lazily, once per (kind, geometry).
 */
export class OnnxSegmentationModel implements OpenedSegmentationModel {
  readonly runtime = 'onnx'
  readonly classIds: number[]
  readonly inputShape: [number | null, number | null, number]
  readonly numClasses: number
  readonly inputRange: [number, number]
  private readonly folded = new Map<string, Promise<FoldedModel>>()
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>()
  private disposed = false

  constructor(
    private readonly model: IrModel,
    private readonly options: OnnxModelOptions
  ) {
    this.inputShape = options.inputShape
    this.numClasses = options.description.numClasses
    this.inputRange = options.inputRange
    this.classIds = options.classIds
  }

  get provider(): OnnxProvider {
    return this.options.provider ?? 'cpu'
  }

  async predict(images: Float32Array, g: BatchGeometry): Promise<Float32Array> {
    const out = await this.run('predict', g, { images: tensor(images, [g.batch, g.height, g.width, g.channels]) })
    return out.probabilities.data as Float32Array
  }

  async perturbationStep(a: PerturbationStepArgs): Promise<PerturbationStepResult> {
    const { batch: b, height: h, width: w, channels: c, maskHeight: mh, maskWidth: mw } = a
    const [lo, hi] = a.clip ?? [-3.4e38, 3.4e38]
    const feeds = {
      masks: tensor(a.masks, [b, mh, mw]),
      images: tensor(a.images, [b, h, w, c]),
      start: tensor(a.start, [b, h, w, c]),
      request: tensor(a.requestMasks, [b, h, w]),
      classOneHot: tensor(a.classOneHot, [b, this.numClasses]),
      originalProb: tensor(a.originalProb, [b, h, w]),
      lambda: tensor(Float32Array.of(a.lambda), [1]),
      clipLow: tensor(Float32Array.of(lo), [1]),
      clipHigh: tensor(Float32Array.of(hi), [1])
    }
    const out = await this.run(a.withGradient ? 'perturbation' : 'perturbationLoss', a, feeds)
    return {
      loss: out.loss.data as Float32Array,
      preservation: out.preservation.data as Float32Array,
      maskL1: out.maskL1.data as Float32Array,
      score: out.score.data as Float32Array,
      gradient: a.withGradient ? (out.gradMasks.data as Float32Array) : undefined
    }
  }

  async scoreGradient(a: ScoreGradientArgs): Promise<ScoreGradientResult> {
    const { batch: b, height: h, width: w, channels: c } = a
    const out = await this.run('scoreGradient', a, {
      images: tensor(a.images, [b, h, w, c]),
      request: tensor(a.requestMasks, [b, h, w]),
      classOneHot: tensor(a.classOneHot, [b, this.numClasses])
    })
    return { score: out.score.data as Float32Array, gradient: out.gradImages.data as Float32Array }
  }

  dispose(): void {
    this.disposed = true
    const sessions = [...this.sessions.values()]
    this.sessions.clear()
    this.folded.clear()
    for (const s of sessions) void s.then((x) => x.release()).catch(() => undefined)
  }

  private async run(kind: ObjectiveKind, g: ObjectiveGeometry, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    if (this.disposed) throw new AppError('INTERNAL', `${this.options.source}: the model was closed`)
    const session = await this.session(kind, g)
    try {
      return await session.run(feeds)
    } catch (err) {
      throw new AppError('INTERNAL', `${this.options.source}: ONNX Runtime failed running the ${kind} graph: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  private session(kind: ObjectiveKind, g: ObjectiveGeometry): Promise<ort.InferenceSession> {
    const maskKey = kind === 'perturbation' || kind === 'perturbationLoss' ? `:${g.maskHeight}x${g.maskWidth}` : ''
    const key = `${kind}:${g.batch}x${g.height}x${g.width}x${g.channels}${maskKey}`
    const hit = this.sessions.get(key)
    if (hit) {
      this.sessions.delete(key)
      this.sessions.set(key, hit)
      return hit
    }
    const created = this.createSession(kind, g)
    this.sessions.set(key, created)
    // A failed build must not stay cached: the next call retries and reports its own error.
    created.catch(() => this.sessions.get(key) === created && this.sessions.delete(key))
    while (this.sessions.size > SESSION_CAPACITY) {
      const [oldKey, old] = this.sessions.entries().next().value as [string, Promise<ort.InferenceSession>]
      this.sessions.delete(oldKey)
      void old.then((s) => s.release()).catch(() => undefined)
    }
    return created
  }

  private async createSession(kind: ObjectiveKind, g: ObjectiveGeometry): Promise<ort.InferenceSession> {
    const folded = await this.foldedAt(g)
    const bytes = encodeModel(composeObjective(folded, this.options.description, kind, g, this.options.source))
    try {
      return await ort.InferenceSession.create(bytes, sessionOptions(this.options.threads, this.provider))
    } catch (err) {
      // The CUDA provider is not in the npm package: it is downloaded by onnxruntime-node's install script
      // (skipped by this project's .npmrc), so asking for it without installing it must say so, not fall back quietly.
      if (this.provider === 'cuda') {
        throw new AppError('BACKEND_UNAVAILABLE', `${this.options.source}: CTXLENS_ONNX_PROVIDER=cuda, but ONNX Runtime's CUDA provider did not start (${err instanceof Error ? err.message : String(err)}); install it with \`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node\` on a machine with CUDA 12, or unset CTXLENS_ONNX_PROVIDER`)
      }
      throw new AppError('MODEL_FILE_INVALID', `${this.options.source}: ONNX Runtime refused the ${kind} graph Context Lens built: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  /** Folding runs the model once at the size: shared by every kind at that geometry. */
  private foldedAt(g: ObjectiveGeometry): Promise<FoldedModel> {
    const dims = modelInputDims(this.options.description, g)
    const key = dims.join('x')
    let f = this.folded.get(key)
    if (!f) {
      f = foldModel(this.model, dims, { source: this.options.source, intraOpNumThreads: this.options.threads })
      this.folded.set(key, f)
      f.catch(() => this.folded.delete(key))
      // Folded graphs hold a copy of the weights; keep as many as sessions could use.
      while (this.folded.size > SESSION_CAPACITY) this.folded.delete(this.folded.keys().next().value as string)
    }
    return f
  }
}

export function sessionOptions(threads: number | undefined, provider: OnnxProvider): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    graphOptimizationLevel: 'all',
    // One session per worker thread of the pool: ORT's own inter-op pool would only add threads.
    executionMode: 'sequential',
    ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {})
  }
}

function tensor(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims)
}
