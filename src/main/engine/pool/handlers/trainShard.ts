import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import type { HandlerRegistry, TaskContext, TaskHandler } from '../handler'
import { loadModelFromArtifacts, modelToArtifacts, type ModelRef } from '../modelCache'
import { loadModelArtifacts } from '../../modelFiles/fsHandler'
import { loadCheckpoint, saveCheckpoint, type TrainingPosition } from '../../training/checkpoint'
import { numClassesOf } from '../../training/trainer'
import { applyGradients, arraysToGrads, computeGradients, evaluateBatch, gradsToArrays, makeAdam, trainableVariables, type AdamOptions } from '../../training/step'

/**
 * One replica of a data-parallel training run (coordinated by training/parallel.ts). Every worker holds the same
 * model and the same Adam state; each step it applies the summed gradients of the previous step (identical on all
 * replicas, so the weights stay in sync without shipping them) and computes gradients on its share of the next batch.
 */
interface Session {
  model: tf.LayersModel
  optimizer: tf.Optimizer
  vars: tf.Variable[]
  /** Weights that are not trained by gradients (batch-norm moving statistics), averaged across replicas. */
  nonTrainable: tf.LayerVariable[]
}

export interface ShardInitPayload {
  session: string
  model: ModelRef
  optimizer: AdamOptions
  resumeFrom?: string
}
export interface ShardInitResult {
  numClasses: number
  position: TrainingPosition | null
  best: Float32Array[] | null
}
export interface ShardStepPayload {
  session: string
  /** Summed gradients (trainable order) and averaged non-trainable weights of the previous step. */
  apply?: { grads: Float32Array[]; nonTrainable: Float32Array[] }
  batch?: { images: Float32Array; labels: Int32Array; shape: [number, number, number, number]; ignoreLabel: number; normaliser: number }
}
export interface ShardStepResult {
  grads?: Float32Array[]
  nonTrainable?: Float32Array[]
  lossSum?: number
  predicted?: Int32Array
}

declare module '../protocol' {
  interface TaskMap {
    'trainShard.init': { payload: ShardInitPayload; result: ShardInitResult; progress: never }
    'trainShard.setWeights': { payload: { session: string; weights: Float32Array[] }; result: null; progress: never }
    'trainShard.step': { payload: ShardStepPayload; result: ShardStepResult; progress: never }
    'trainShard.evaluate': {
      payload: { session: string; images: Float32Array; labels: Int32Array; shape: [number, number, number, number]; ignoreLabel: number }
      result: { lossSum: number; predicted: Int32Array }
      progress: never
    }
    'trainShard.save': { payload: { session: string; dir: string; position: TrainingPosition; best?: Float32Array[] }; result: null; progress: never }
    'trainShard.export': { payload: { session: string }; result: { artifacts: tf.io.ModelArtifacts; weights: Float32Array[] }; progress: never }
    'trainShard.dispose': { payload: { session: string }; result: null; progress: never }
  }
}

function session(ctx: TaskContext, id: string): Session {
  const s = ctx.state.get(`trainShard:${id}`) as Session | undefined
  if (!s) throw new AppError('NOT_FOUND', `No training session "${id}" in worker ${ctx.slot} (was the worker replaced?)`, { session: id })
  return s
}

const init: TaskHandler<ShardInitPayload, ShardInitResult> = async (p, ctx) => {
  const old = ctx.state.get(`trainShard:${p.session}`) as Session | undefined
  if (old) disposeSession(old)
  const artifacts = p.model.kind === 'dir' ? await loadModelArtifacts(p.model.path) : p.model.artifacts
  const model = await loadModelFromArtifacts(artifacts)
  const optimizer = makeAdam(p.optimizer)
  let position: TrainingPosition | null = null
  let best: Float32Array[] | null = null
  try {
    if (p.resumeFrom) ({ position, best } = await loadCheckpoint(p.resumeFrom, model, optimizer))
  } catch (err) {
    optimizer.dispose()
    model.dispose()
    throw err
  }
  const s: Session = { model, optimizer, vars: trainableVariables(model), nonTrainable: model.nonTrainableWeights }
  ctx.state.set(`trainShard:${p.session}`, s)
  return { numClasses: numClassesOf(model), position, best }
}

const step: TaskHandler<ShardStepPayload, ShardStepResult> = (p, ctx) => {
  const s = session(ctx, p.session)
  if (p.apply) {
    s.nonTrainable.forEach((w, i) => {
      const t = tf.tensor(p.apply!.nonTrainable[i], w.read().shape)
      w.write(t)
      t.dispose()
    })
    applyGradients(s.optimizer, arraysToGrads(p.apply.grads, s.vars))
  }
  if (!p.batch) return {}
  const b = p.batch
  const g = computeGradients(s.model, b.images, b.labels, b.shape, b.ignoreLabel, b.normaliser)
  const grads = gradsToArrays(g.grads, s.vars)
  for (const t of Object.values(g.grads)) t.dispose()
  const nonTrainable = s.nonTrainable.map((w) => Float32Array.from(w.read().dataSync()))
  return { grads, nonTrainable, lossSum: g.lossSum, predicted: g.predicted }
}

const evaluate: TaskHandler<TaskMapPayload<'trainShard.evaluate'>, { lossSum: number; predicted: Int32Array }> = (p, ctx) => {
  const s = session(ctx, p.session)
  return evaluateBatch(s.model, p.images, p.labels, p.shape, p.ignoreLabel)
}

const save: TaskHandler<TaskMapPayload<'trainShard.save'>, null> = async (p, ctx) => {
  const s = session(ctx, p.session)
  await saveCheckpoint(p.dir, s.model, s.optimizer, p.position, p.best ?? null)
  return null
}

const setWeights: TaskHandler<{ session: string; weights: Float32Array[] }, null> = (p, ctx) => {
  const s = session(ctx, p.session)
  const tensors = p.weights.map((v, i) => tf.tensor(v, s.model.weights[i].read().shape))
  s.model.setWeights(tensors)
  for (const t of tensors) t.dispose()
  return null
}

const exportModel: TaskHandler<{ session: string }, { artifacts: tf.io.ModelArtifacts; weights: Float32Array[] }> = async (p, ctx) => {
  const s = session(ctx, p.session)
  return { artifacts: await modelToArtifacts(s.model), weights: s.model.weights.map((w) => Float32Array.from(w.read().dataSync())) }
}

function disposeSession(s: Session): void {
  s.optimizer.dispose()
  s.model.dispose()
}

const dispose: TaskHandler<{ session: string }, null> = (p, ctx) => {
  const key = `trainShard:${p.session}`
  const s = ctx.state.get(key) as Session | undefined
  if (s) disposeSession(s)
  ctx.state.delete(key)
  return null
}

type TaskMapPayload<K extends keyof import('../protocol').TaskMap> = import('../protocol').PayloadOf<K & string>

export const trainShardHandlers: HandlerRegistry = {
  'trainShard.init': init,
  'trainShard.step': step,
  'trainShard.evaluate': evaluate,
  'trainShard.save': save,
  'trainShard.setWeights': setWeights,
  'trainShard.export': exportModel,
  'trainShard.dispose': dispose
}
