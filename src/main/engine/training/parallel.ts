import { randomUUID } from 'node:crypto'
import type { TransferListItem } from 'node:worker_threads'
import type * as tf from '@tensorflow/tfjs'
import type { EnginePool } from '../pool/pool'
import { splitRanges } from '../pool/pool'
import type { ModelRef } from '../pool/modelCache'
import { transferables } from '../pool/protocol'
import type { ShardStepResult } from '../pool/handlers/trainShard'
import type { TrainingPosition } from './checkpoint'
import type { SegmentationData } from './data'
import type { AdamOptions } from './step'
import { runTraining, type TrainHooks, type TrainingEngine, type TrainerState, type TrainOptions, type TrainResult } from './trainer'

type Shape4 = [number, number, number, number]

/**
 * Data-parallel replicas in pool workers. Each step the batch is split into one contiguous share per worker; each
 * worker returns the gradient of Σ CE(share) / (valid pixels of the whole batch), so the coordinator's sum is the
 * gradient of the batch mean. The sum (and the averaged batch-norm statistics) is sent with the next step and
 * applied by every replica with the same Adam state, which keeps the replicas identical without shipping weights.
 * Batch norm normalises with each share's own batch statistics (as PyTorch DDP without SyncBatchNorm).
 */
export class PoolTrainingEngine implements TrainingEngine {
  private pending: { grads: Float32Array[]; nonTrainable: Float32Array[] } | null = null
  private readonly workers: number[]

  private constructor(
    private readonly pool: EnginePool,
    private readonly session: string,
    readonly numClasses: number,
    private readonly modelRef: ModelRef,
    private readonly optimizer: AdamOptions,
    private readonly ignoreLabel: number,
    private readonly signal: AbortSignal | undefined
  ) {
    this.workers = Array.from({ length: pool.size }, (_, i) => i)
  }

  static async create(pool: EnginePool, model: ModelRef, options: TrainOptions, signal?: AbortSignal): Promise<PoolTrainingEngine> {
    const session = randomUUID()
    const inits = await Promise.all(
      Array.from({ length: pool.size }, (_, i) =>
        pool.run({ type: 'trainShard.init', payload: { session, model, optimizer: options } }, { worker: i, signal })
      )
    )
    return new PoolTrainingEngine(pool, session, inits[0].numClasses, model, options, options.ignoreLabel ?? 255, signal)
  }

  private onAll<R>(make: (worker: number) => { type: string; payload: unknown; transfer?: TransferListItem[] }, workers = this.workers): Promise<R[]> {
    return Promise.all(workers.map((w) => this.pool.run<R>(make(w) as never, { worker: w, signal: this.signal })))
  }

  async restore(dir: string) {
    const results = await Promise.all(
      this.workers.map((w) =>
        this.pool.run(
          { type: 'trainShard.init', payload: { session: this.session, model: this.modelRef, optimizer: this.optimizer, resumeFrom: dir } },
          { worker: w, signal: this.signal }
        )
      )
    )
    const first = results[0]
    return { position: first.position as TrainingPosition<TrainerState>, best: first.best }
  }

  async step(images: Float32Array, labels: Int32Array, shape: Shape4, normaliser: number) {
    const [n, h, w, c] = shape
    const ranges = splitRanges(n, this.workers.length)
    const apply = this.pending ?? undefined
    this.pending = null
    const results = await this.onAll<ShardStepResult>((worker) => {
      const r = ranges[worker]
      if (!r) return { type: 'trainShard.step', payload: { session: this.session, apply } }
      const share = {
        images: images.slice(r.start * h * w * c, r.end * h * w * c),
        labels: labels.slice(r.start * h * w, r.end * h * w),
        shape: [r.end - r.start, h, w, c] as Shape4,
        ignoreLabel: this.ignoreLabel,
        normaliser
      }
      return { type: 'trainShard.step', payload: { session: this.session, apply, batch: share }, transfer: transferables(share.images, share.labels) }
    })
    let lossSum = 0
    let grads: Float32Array[] | null = null
    let nonTrainable: Float32Array[] | null = null
    const predicted = new Int32Array(n * h * w)
    results.forEach((res, worker) => {
      const r = ranges[worker]
      if (!r || !res.grads || !res.nonTrainable) return
      lossSum += res.lossSum ?? 0
      predicted.set(res.predicted!, r.start * h * w)
      const weight = (r.end - r.start) / n
      if (!grads) grads = res.grads.map((g) => new Float32Array(g.length))
      if (!nonTrainable) nonTrainable = res.nonTrainable.map((v) => new Float32Array(v.length))
      res.grads.forEach((g, i) => addInto(grads![i], g, 1))
      res.nonTrainable.forEach((v, i) => addInto(nonTrainable![i], v, weight))
    })
    this.pending = { grads: grads ?? [], nonTrainable: nonTrainable ?? [] }
    return { lossSum, predicted }
  }

  /** Applies the last step's gradients everywhere; needed before anything reads the weights. */
  private async flush(): Promise<void> {
    if (!this.pending) return
    const apply = this.pending
    this.pending = null
    await this.onAll(() => ({ type: 'trainShard.step', payload: { session: this.session, apply } }))
  }

  async evaluate(images: Float32Array, labels: Int32Array, shape: Shape4) {
    await this.flush()
    const [n, h, w, c] = shape
    const ranges = splitRanges(n, this.workers.length)
    const parts = await this.onAll<{ lossSum: number; predicted: Int32Array }>(
      (worker) => {
        const r = ranges[worker]
        const payload = {
          session: this.session,
          images: images.slice(r.start * h * w * c, r.end * h * w * c),
          labels: labels.slice(r.start * h * w, r.end * h * w),
          shape: [r.end - r.start, h, w, c] as Shape4,
          ignoreLabel: this.ignoreLabel
        }
        return { type: 'trainShard.evaluate', payload, transfer: transferables(payload.images, payload.labels) }
      },
      this.workers.slice(0, ranges.length)
    )
    const predicted = new Int32Array(n * h * w)
    let lossSum = 0
    parts.forEach((p, i) => {
      lossSum += p.lossSum
      predicted.set(p.predicted, ranges[i].start * h * w)
    })
    return { lossSum, predicted }
  }

  async getWeights(): Promise<Float32Array[]> {
    await this.flush()
    const r = await this.pool.run({ type: 'trainShard.export', payload: { session: this.session } }, { worker: 0, signal: this.signal })
    return r.weights
  }

  async setWeights(weights: Float32Array[]): Promise<void> {
    await this.flush()
    await this.onAll(() => ({ type: 'trainShard.setWeights', payload: { session: this.session, weights } }))
  }

  async save(dir: string, position: TrainingPosition<TrainerState>, best: Float32Array[] | null): Promise<void> {
    await this.flush()
    await this.pool.run(
      { type: 'trainShard.save', payload: { session: this.session, dir, position, ...(best ? { best } : {}) } },
      { worker: 0, signal: this.signal }
    )
  }

  async exportModel(): Promise<tf.io.ModelArtifacts> {
    await this.flush()
    return (await this.pool.run({ type: 'trainShard.export', payload: { session: this.session } }, { worker: 0, signal: this.signal })).artifacts
  }

  /** Frees the replicas; never throws (a crashed worker has nothing left to free). */
  async dispose(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => this.pool.run({ type: 'trainShard.dispose', payload: { session: this.session } }, { worker: w })))
  }
}

function addInto(target: Float32Array, source: Float32Array, scale: number): void {
  if (scale === 1) for (let i = 0; i < target.length; i++) target[i] += source[i]
  else for (let i = 0; i < target.length; i++) target[i] += source[i] * scale
}

/**
 * Trains over every worker of the pool (data parallel) with the same loop, options, checkpoints and resume as
 * trainModel; returns the trained model as artifacts.
 */
export async function trainDataParallel(
  pool: EnginePool,
  model: ModelRef,
  data: SegmentationData,
  options: TrainOptions,
  hooks: TrainHooks = {},
  validation?: SegmentationData
): Promise<TrainResult & { artifacts: tf.io.ModelArtifacts }> {
  const engine = await PoolTrainingEngine.create(pool, model, options, hooks.signal)
  try {
    const result = await runTraining(engine, data, options, hooks, validation)
    return { ...result, artifacts: await engine.exportModel() }
  } finally {
    await engine.dispose()
  }
}
