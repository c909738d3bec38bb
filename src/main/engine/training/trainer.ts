import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import { loadCheckpoint, saveCheckpoint, type TrainingPosition } from './checkpoint'
import type { SegmentationData } from './data'
import { runTraining } from './loop'
import { applyGradients, computeGradients, evaluateBatch, makeAdam, type AdamOptions } from './step'
import type { TrainerState, TrainHooks, TrainingEngine, TrainOptions, TrainResult } from './types'

// The loop and the types have their own modules; callers keep importing the trainer.
export { evaluate, resolveSplit, runTraining } from './loop'
export type * from './types'

export function numClassesOf(model: tf.LayersModel): number {
  const shape = (Array.isArray(model.outputs) ? model.outputs[0] : model.outputs).shape
  const k = shape[shape.length - 1]
  if (typeof k !== 'number' || shape.length !== 4) {
    throw new AppError('MODEL_OUTPUT_MISMATCH', `Training expects a [b, h, w, classes] output, the model gives [${shape.join(', ')}]`)
  }
  return k
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

