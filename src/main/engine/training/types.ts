import type { TrainingPosition } from './checkpoint'
import type { AdamOptions } from './step'

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
