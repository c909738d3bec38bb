import * as tf from '@tensorflow/tfjs'
import type { TaskHandler } from '../handler'
import { loadModelFromArtifacts, modelToArtifacts, type ModelRef } from '../modelCache'
import { loadModelArtifacts } from '../../modelFiles/fsHandler'
import type { SegmentationData } from '../../training/data'
import { trainModel, type TrainOptions, type TrainProgress, type TrainResult } from '../../training/trainer'

export interface TrainPayload {
  model: ModelRef
  data: SegmentationData
  validation?: SegmentationData
  options: TrainOptions
  /** Checkpoint directory to continue from. */
  resumeFrom?: string
  /** Send the trained model back as artifacts (default true). */
  returnModel?: boolean
}

export interface TrainTaskResult extends TrainResult {
  artifacts?: tf.io.ModelArtifacts
}

declare module '../protocol' {
  interface TaskMap {
    train: { payload: TrainPayload; result: TrainTaskResult; progress: TrainProgress }
  }
}

/** Trains in this worker. The model is built fresh (never the shared cache entry: training mutates it). */
export const train: TaskHandler<TrainPayload, TrainTaskResult> = async (p, ctx) => {
  const artifacts = p.model.kind === 'dir' ? await loadModelArtifacts(p.model.path) : p.model.artifacts
  const model = await loadModelFromArtifacts(artifacts)
  try {
    const result = await trainModel(
      model,
      p.data,
      p.options,
      {
        signal: ctx.signal,
        onProgress: (progress) => ctx.progress(progress),
        yieldPoint: () => ctx.checkpoint(),
        ...(p.resumeFrom ? { resumeFrom: p.resumeFrom } : {})
      },
      p.validation
    )
    if (p.returnModel === false) return result
    return { ...result, artifacts: await modelToArtifacts(model) }
  } finally {
    model.dispose()
  }
}
