import { AppError } from '@common/errors'
import { throwIfAborted, yieldToEventLoop } from '../../cancellation'
import { ConfusionMatrix } from '../../metrics/iou'
import { batchCount, checkData, checkLabels, countValid, gatherBatch, shuffledOrder, splitTrainValidation, type SegmentationData } from './data'
import type { EarlyStoppingOptions, EpochMetrics, TrainHooks, TrainingEngine, TrainerState, TrainOptions, TrainResult } from './types'

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

/** Where a run starts: from scratch, or from a checkpoint written by the same plan (seed, batch size, items). */
async function startingPoint(engine: TrainingEngine, fresh: TrainerState, resumeFrom: string | undefined) {
  if (!resumeFrom) return { state: fresh, step: 0, epoch: 0, batch: 0, best: null as Float32Array[] | null, resumedFrom: null as TrainResult['resumedFrom'] }
  const ck = await engine.restore(resumeFrom)
  const saved = ck.position.trainer.plan
  if (saved && (saved.seed !== fresh.plan.seed || saved.batchSize !== fresh.plan.batchSize || saved.trainItems !== fresh.plan.trainItems)) {
    throw new AppError('INVALID_PARAMETERS', 'The checkpoint was written with another seed, batch size or training set; resuming would not continue the same run', {
      checkpoint: saved,
      now: fresh.plan
    })
  }
  const { step, epoch, batch } = ck.position
  return { state: ck.position.trainer, step, epoch, batch, best: ck.best, resumedFrom: { step, epoch, batch } }
}

/** Updates the early-stopping state with an epoch's metrics; true when this epoch is the best so far. */
function trackBest(es: EarlyStoppingOptions, state: TrainerState, metrics: EpochMetrics): boolean {
  const minimise = es.monitor === 'valLoss'
  const value = es.monitor === 'valLoss' ? (metrics.valLoss ?? metrics.trainLoss) : (metrics.valMiou ?? metrics.trainPixelAccuracy)
  const delta = es.minDelta ?? 0
  const improved = state.best === null || (minimise ? value < state.best - delta : value > state.best + delta)
  if (improved) {
    state.best = value
    state.bestEpoch = metrics.epoch
    state.wait = 0
  } else if (++state.wait >= (es.patience ?? Infinity)) {
    state.stopped = true
  }
  return improved
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
  const emptyCounts = (): number[] => new Array(numClasses * numClasses).fill(0)

  const start = await startingPoint(
    engine,
    {
      history: [],
      best: null,
      bestEpoch: null,
      wait: 0,
      stopped: false,
      epochLossSum: 0,
      epochValid: 0,
      epochCounts: emptyCounts(),
      epochSeconds: 0,
      plan: { seed, batchSize: options.batchSize, trainItems: split.train.length }
    },
    hooks.resumeFrom
  )
  const state = start.state
  let step = start.step
  let bestWeights = start.best

  const save = async (epoch: number, batch: number): Promise<void> => {
    if (!options.checkpointDir) return
    await engine.save(options.checkpointDir, { version: 1, step, epoch, batch, trainer: state }, bestWeights)
    hooks.onProgress?.({ kind: 'checkpoint', dir: options.checkpointDir, step })
  }
  const reachedMax = (): boolean => options.maxSteps !== undefined && step >= options.maxSteps

  /** One epoch's batches from `fromBatch`; false when maxSteps cut it short (a resume completes it). */
  const trainBatches = async (epoch: number, fromBatch: number, confusion: ConfusionMatrix): Promise<boolean> => {
    const order = shuffledOrder(split.train, seed, epoch)
    for (let b = fromBatch; b < batches; b++) {
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
      hooks.onProgress?.({ kind: 'batch', epoch, batch: b, batches, step, loss: valid > 0 ? r.lossSum / valid : 0, imagesPerSecond: batch.count / seconds })
      const last = b === batches - 1
      if (!last && options.checkpointEvery && step % options.checkpointEvery === 0) await save(epoch, b + 1)
      if (!last && reachedMax()) {
        await save(epoch, b + 1)
        return false
      }
    }
    return true
  }

  /** The finished epoch's metrics (with validation when there is a validation set); resets the running sums. */
  const closeEpoch = async (epoch: number, confusion: ConfusionMatrix): Promise<EpochMetrics> => {
    const metrics: EpochMetrics = {
      epoch,
      trainLoss: state.epochValid > 0 ? state.epochLossSum / state.epochValid : 0,
      trainPixelAccuracy: confusion.pixelAccuracy() ?? 0,
      seconds: state.epochSeconds
    }
    if (valData && valIdx && valIdx.length > 0) {
      const v = await evaluate(engine, valData, valIdx, { ignoreLabel, numClasses, batchSize: options.evalBatchSize ?? options.batchSize, yieldPoint })
      metrics.valLoss = v.loss
      metrics.valPixelAccuracy = v.pixelAccuracy
      metrics.valMiou = v.miou
    }
    state.history.push(metrics)
    state.epochLossSum = 0
    state.epochValid = 0
    state.epochCounts = emptyCounts()
    state.epochSeconds = 0
    return metrics
  }

  for (let epoch = start.epoch; epoch < options.epochs && !state.stopped && !reachedMax(); epoch++) {
    const confusion = new ConfusionMatrix(numClasses, [ignoreLabel])
    confusion.counts.set(state.epochCounts)
    // Stopped inside the epoch by maxSteps: a partial epoch gets no epoch metrics.
    if (!(await trainBatches(epoch, epoch === start.epoch ? start.batch : 0, confusion))) break
    const metrics = await closeEpoch(epoch, confusion)
    if (es && trackBest(es, state, metrics) && keepBest) bestWeights = await engine.getWeights()
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
  return { history: state.history, steps: step, stoppedEarly: state.stopped, bestEpoch, resumedFrom: start.resumedFrom }
}
