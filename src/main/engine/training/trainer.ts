import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import { throwIfAborted, yieldToEventLoop } from '../../cancellation'
import { ConfusionMatrix } from '../../metrics/iou'
import { loadCheckpoint, saveCheckpoint, type TrainingPosition } from './checkpoint'
import { batchCount, checkData, checkLabels, countValid, gatherBatch, shuffledOrder, splitTrainValidation, type SegmentationData } from './data'
import { applyGradients, computeGradients, evaluateBatch, makeAdam, type AdamOptions } from './step'

export interface EarlyStoppingOptions {
  monitor: 'valLoss' | 'valMiou'
  /** Epochs without improvement before stopping; omitted, training runs every epoch and only tracks the best. */
  patience?: number
  minDelta?: number
  /**
   * Put the best epoch's weights back into the model: true (default) when training stops early; 'atEnd' also when
   * it runs all its epochs, for callers that keep the best epoch rather than the last; false never. A run cut
   * short by maxSteps keeps its current weights either way: it is not over, and a resume continues from them.
   */
  restoreBest?: boolean | 'atEnd'
}

export interface TrainOptions extends AdamOptions {
  epochs: number
  batchSize: number
  seed?: number
  /** Label value that marks pixels without ground truth (default 255). */
  ignoreLabel?: number
  /** Fraction of the data held out for validation when no validation set is given. */
  validationSplit?: number
  earlyStopping?: EarlyStoppingOptions
  checkpointDir?: string
  /** Save every this many steps; end of each epoch regardless (when checkpointDir is set). */
  checkpointEvery?: number
  /** Stop (without error) after this many optimizer steps in total; for partial runs and benchmarks. */
  maxSteps?: number
  evalBatchSize?: number
}

export interface EpochMetrics {
  epoch: number
  trainLoss: number
  trainPixelAccuracy: number
  valLoss?: number
  valPixelAccuracy?: number
  valMiou?: number
  seconds: number
}

export type TrainProgress =
  | { kind: 'batch'; epoch: number; batch: number; batches: number; step: number; loss: number; imagesPerSecond: number }
  | { kind: 'epoch'; metrics: EpochMetrics }
  | { kind: 'checkpoint'; dir: string; step: number }

export interface TrainResult {
  history: EpochMetrics[]
  steps: number
  stoppedEarly: boolean
  /** Epoch whose weights the model holds at the end when restoreBest applied; null when it did not. */
  bestEpoch: number | null
  resumedFrom: { step: number; epoch: number; batch: number } | null
}

export interface TrainHooks {
  signal?: AbortSignal
  onProgress?: (p: TrainProgress) => void
  /** Awaited between steps: lets cancel messages in; must throw CANCELLED when cancelled. */
  yieldPoint?: () => Promise<void>
  resumeFrom?: string
}

/**
 * What the training loop drives: one model replica in this thread (LocalEngine) or replicas in pool workers
 * (training/parallel.ts). The loop owns epochs, shuffling, metrics, early stopping and checkpoint positions.
 */
export interface TrainingEngine {
  readonly numClasses: number
  /** Restores weights and optimizer state; returns the saved position and best weights. */
  restore(dir: string): Promise<{ position: TrainingPosition<TrainerState>; best: Float32Array[] | null }>
  /** One optimizer step on a batch; `normaliser` is its number of valid pixels. */
  step(images: Float32Array, labels: Int32Array, shape: [number, number, number, number], normaliser: number): Promise<{ lossSum: number; predicted: Int32Array }>
  /** Inference-mode loss sum and predictions. */
  evaluate(images: Float32Array, labels: Int32Array, shape: [number, number, number, number]): Promise<{ lossSum: number; predicted: Int32Array }>
  getWeights(): Promise<Float32Array[]>
  setWeights(weights: Float32Array[]): Promise<void>
  save(dir: string, position: TrainingPosition<TrainerState>, best: Float32Array[] | null): Promise<void>
}

export interface TrainerState {
  history: EpochMetrics[]
  best: number | null
  bestEpoch: number | null
  wait: number
  stopped: boolean
  /** Running sums of the epoch in progress, so a mid-epoch resume reports the same epoch metrics. */
  epochLossSum: number
  epochValid: number
  epochCounts: number[]
  epochSeconds: number
  /** What fixes the batch order; a resume with other values would silently train on different batches. */
  plan: { seed: number; batchSize: number; trainItems: number }
}

export function numClassesOf(model: tf.LayersModel): number {
  const shape = (Array.isArray(model.outputs) ? model.outputs[0] : model.outputs).shape
  const k = shape[shape.length - 1]
  if (typeof k !== 'number' || shape.length !== 4) {
    throw new AppError('MODEL_OUTPUT_MISMATCH', `Training expects a [b, h, w, classes] output, the model gives [${shape.join(', ')}]`)
  }
  return k
}

export function resolveSplit(data: SegmentationData, validation: SegmentationData | undefined, options: TrainOptions) {
  const n = data.shape[0]
  if (validation || !options.validationSplit) return { train: Int32Array.from({ length: n }, (_, i) => i), val: null as Int32Array | null }
  const s = splitTrainValidation(n, options.validationSplit, options.seed ?? 0)
  return { train: s.train, val: s.validation }
}

/** Loss, pixel accuracy and mIoU (inference mode) on the given items of `data`. */
export async function evaluate(
  engine: Pick<TrainingEngine, 'evaluate'>,
  data: SegmentationData,
  indices: ArrayLike<number>,
  opts: { ignoreLabel: number; numClasses: number; batchSize: number; yieldPoint?: () => Promise<void> }
): Promise<{ loss: number; pixelAccuracy: number; miou: number; confusion: ConfusionMatrix }> {
  const [, h, w, c] = data.shape
  const confusion = new ConfusionMatrix(opts.numClasses, [opts.ignoreLabel])
  let lossSum = 0
  let valid = 0
  for (let s = 0; s < indices.length; s += opts.batchSize) {
    await opts.yieldPoint?.()
    const idx = Array.from({ length: Math.min(opts.batchSize, indices.length - s) }, (_, k) => indices[s + k])
    const b = gatherBatch(data, idx)
    const r = await engine.evaluate(b.images, b.labels, [b.count, h, w, c])
    lossSum += r.lossSum
    valid += countValid(b.labels, opts.ignoreLabel)
    confusion.add(b.labels, r.predicted)
  }
  // 0 rather than null when no pixel counted: epoch metrics and early stopping compare numbers.
  return { loss: valid > 0 ? lossSum / valid : 0, pixelAccuracy: confusion.pixelAccuracy() ?? 0, miou: confusion.meanIoU() ?? 0, confusion }
}

const defaultYield = (signal?: AbortSignal) => async (): Promise<void> => {
  await yieldToEventLoop()
  throwIfAborted(signal, 'Training was cancelled')
}

/** A model and its Adam optimizer in this thread. */
export class LocalEngine implements TrainingEngine {
  readonly numClasses: number
  readonly optimizer: tf.Optimizer
  constructor(
    readonly model: tf.LayersModel,
    options: AdamOptions,
    private readonly ignoreLabel: number
  ) {
    this.numClasses = numClassesOf(model)
    this.optimizer = makeAdam(options)
  }
  async restore(dir: string) {
    const ck = await loadCheckpoint<TrainerState>(dir, this.model, this.optimizer)
    return { position: ck.position, best: ck.best }
  }
  async step(images: Float32Array, labels: Int32Array, shape: [number, number, number, number], normaliser: number) {
    const g = computeGradients(this.model, images, labels, shape, this.ignoreLabel, normaliser)
    applyGradients(this.optimizer, g.grads)
    return { lossSum: g.lossSum, predicted: g.predicted }
  }
  async evaluate(images: Float32Array, labels: Int32Array, shape: [number, number, number, number]) {
    return evaluateBatch(this.model, images, labels, shape, this.ignoreLabel)
  }
  async getWeights() {
    return this.model.weights.map((w) => Float32Array.from(w.read().dataSync()))
  }
  async setWeights(weights: Float32Array[]) {
    const tensors = weights.map((v, i) => tf.tensor(v, this.model.weights[i].read().shape))
    this.model.setWeights(tensors)
    for (const t of tensors) t.dispose()
  }
  async save(dir: string, position: TrainingPosition<TrainerState>, best: Float32Array[] | null) {
    await saveCheckpoint(dir, this.model, this.optimizer, position, best)
  }
  dispose(): void {
    this.optimizer.dispose()
  }
}

/**
 * Trains a softmax segmentation model with Adam on masked cross-entropy, one optimizer step per batch, in this
 * thread (a pool worker, or the process for tests). See runTraining.
 */
export async function trainModel(
  model: tf.LayersModel,
  data: SegmentationData,
  options: TrainOptions,
  hooks: TrainHooks = {},
  validation?: SegmentationData
): Promise<TrainResult> {
  const engine = new LocalEngine(model, options, options.ignoreLabel ?? 255)
  try {
    return await runTraining(engine, data, options, hooks, validation)
  } finally {
    engine.dispose()
  }
}

/**
 * The training loop. Shuffling depends only on (seed, epoch), so a run resumed from a checkpoint visits the same
 * batches as an uninterrupted one; checkpoints record the next (epoch, batch) and the running epoch sums.
 */
export async function runTraining(
  engine: TrainingEngine,
  data: SegmentationData,
  options: TrainOptions,
  hooks: TrainHooks = {},
  validation?: SegmentationData
): Promise<TrainResult> {
  checkData(data)
  if (validation) checkData(validation, 'validation data')
  if (!(options.epochs >= 1) || !(options.batchSize >= 1)) throw new AppError('INVALID_PARAMETERS', 'epochs and batchSize must be at least 1')
  const ignoreLabel = options.ignoreLabel ?? 255
  const seed = options.seed ?? 0
  const numClasses = engine.numClasses
  checkLabels(data.labels, numClasses, ignoreLabel)
  if (validation) checkLabels(validation.labels, numClasses, ignoreLabel)
  const yieldPoint = hooks.yieldPoint ?? defaultYield(hooks.signal)
  const [, h, w, c] = data.shape
  const split = resolveSplit(data, validation, options)
  const valData = validation ?? (split.val ? data : null)
  const valIdx = validation ? Int32Array.from({ length: validation.shape[0] }, (_, i) => i) : split.val
  const batches = batchCount(split.train.length, options.batchSize)
  const es = options.earlyStopping
  const keepBest = es !== undefined && es.restoreBest !== false

  let state: TrainerState = {
    history: [],
    best: null,
    bestEpoch: null,
    wait: 0,
    stopped: false,
    epochLossSum: 0,
    epochValid: 0,
    epochCounts: new Array(numClasses * numClasses).fill(0),
    epochSeconds: 0,
    plan: { seed, batchSize: options.batchSize, trainItems: split.train.length }
  }
  let step = 0
  let startEpoch = 0
  let startBatch = 0
  let bestWeights: Float32Array[] | null = null
  let resumedFrom: TrainResult['resumedFrom'] = null

  if (hooks.resumeFrom) {
    const ck = await engine.restore(hooks.resumeFrom)
    const saved = ck.position.trainer.plan
    if (saved && (saved.seed !== state.plan.seed || saved.batchSize !== state.plan.batchSize || saved.trainItems !== state.plan.trainItems)) {
      throw new AppError('INVALID_PARAMETERS', 'The checkpoint was written with another seed, batch size or training set; resuming would not continue the same run', {
        checkpoint: saved,
        now: state.plan
      })
    }
    state = ck.position.trainer
    step = ck.position.step
    startEpoch = ck.position.epoch
    startBatch = ck.position.batch
    bestWeights = ck.best
    resumedFrom = { step, epoch: startEpoch, batch: startBatch }
  }

  const save = async (epoch: number, batch: number): Promise<void> => {
    if (!options.checkpointDir) return
    await engine.save(options.checkpointDir, { version: 1, step, epoch, batch, trainer: state }, bestWeights)
    hooks.onProgress?.({ kind: 'checkpoint', dir: options.checkpointDir, step })
  }

  const reachedMax = (): boolean => options.maxSteps !== undefined && step >= options.maxSteps
  for (let epoch = startEpoch; epoch < options.epochs && !state.stopped && !reachedMax(); epoch++) {
    const order = shuffledOrder(split.train, seed, epoch)
    const confusion = new ConfusionMatrix(numClasses, [ignoreLabel])
    confusion.counts.set(state.epochCounts)
    let partial = false
    for (let b = epoch === startEpoch ? startBatch : 0; b < batches; b++) {
      await yieldPoint()
      const t0 = performance.now()
      const idx = order.subarray(b * options.batchSize, Math.min((b + 1) * options.batchSize, order.length))
      const batch = gatherBatch(data, idx)
      const valid = countValid(batch.labels, ignoreLabel)
      const r = await engine.step(batch.images, batch.labels, [batch.count, h, w, c], valid)
      step++
      confusion.add(batch.labels, r.predicted)
      state.epochLossSum += r.lossSum
      state.epochValid += valid
      state.epochCounts = Array.from(confusion.counts)
      const seconds = (performance.now() - t0) / 1000
      state.epochSeconds += seconds
      hooks.onProgress?.({
        kind: 'batch',
        epoch,
        batch: b,
        batches,
        step,
        loss: valid > 0 ? r.lossSum / valid : 0,
        imagesPerSecond: batch.count / seconds
      })
      const last = b === batches - 1
      if (!last && options.checkpointEvery && step % options.checkpointEvery === 0) await save(epoch, b + 1)
      if (!last && reachedMax()) {
        await save(epoch, b + 1)
        partial = true
        break
      }
    }
    // Stopped inside the epoch by maxSteps: a partial epoch gets no epoch metrics (a resume completes it).
    if (partial) break
    const metrics: EpochMetrics = {
      epoch,
      trainLoss: state.epochValid > 0 ? state.epochLossSum / state.epochValid : 0,
      trainPixelAccuracy: confusion.pixelAccuracy() ?? 0,
      seconds: state.epochSeconds
    }
    if (valData && valIdx && valIdx.length > 0) {
      const v = await evaluate(engine, valData, valIdx, {
        ignoreLabel,
        numClasses,
        batchSize: options.evalBatchSize ?? options.batchSize,
        yieldPoint
      })
      metrics.valLoss = v.loss
      metrics.valPixelAccuracy = v.pixelAccuracy
      metrics.valMiou = v.miou
    }
    state.history.push(metrics)
    state.epochLossSum = 0
    state.epochValid = 0
    state.epochCounts = new Array(numClasses * numClasses).fill(0)
    state.epochSeconds = 0
    if (es) {
      const minimise = es.monitor === 'valLoss'
      const value = es.monitor === 'valLoss' ? (metrics.valLoss ?? metrics.trainLoss) : (metrics.valMiou ?? metrics.trainPixelAccuracy)
      const delta = es.minDelta ?? 0
      const improved = state.best === null || (minimise ? value < state.best - delta : value > state.best + delta)
      if (improved) {
        state.best = value
        state.bestEpoch = epoch
        state.wait = 0
        if (keepBest) bestWeights = await engine.getWeights()
      } else if (++state.wait >= (es.patience ?? Infinity)) {
        state.stopped = true
      }
    }
    await save(epoch + 1, 0)
    hooks.onProgress?.({ kind: 'epoch', metrics })
  }
  const ranAllEpochs = state.history.length >= options.epochs
  const restore = keepBest && (state.stopped || (es?.restoreBest === 'atEnd' && ranAllEpochs))
  let bestEpoch: number | null = null
  if (restore && bestWeights) {
    await engine.setWeights(bestWeights)
    bestEpoch = state.bestEpoch
  }
  return { history: state.history, steps: step, stoppedEarly: state.stopped, bestEpoch, resumedFrom }
}
