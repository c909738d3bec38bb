import type { EpochMetrics } from './trainer'

export interface TrainingRunFacts {
  history: EpochMetrics[]
  /** The epoch whose weights the model holds. */
  chosen: EpochMetrics
  images: number
  batchSize: number
  learningRate: number
  seed: number
  command: string
}

/**
 * The part of a model sidecar's `training` block every trainer of ours writes the same way: how long, on what, and
 * the metrics of the epoch the weights come from (not the last one when the best was restored).
 */
export function trainingRunRecord(f: TrainingRunFacts) {
  return {
    epochs: f.history.length,
    selectedEpoch: f.chosen.epoch + 1,
    images: f.images,
    batchSize: f.batchSize,
    optimizer: 'adam',
    learningRate: f.learningRate,
    seed: f.seed,
    trainedAt: new Date().toISOString(),
    command: f.command,
    metrics: {
      valMiou: f.chosen.valMiou ?? 0,
      valPixelAccuracy: f.chosen.valPixelAccuracy ?? 0,
      valLoss: f.chosen.valLoss ?? 0,
      trainLoss: f.chosen.trainLoss
    }
  }
}
