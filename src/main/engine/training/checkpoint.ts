import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import { parseJsonText } from '@common/jsonText'
import { fsHandler, loadModelArtifacts } from '../modelFiles/fsHandler'

/**
 * A checkpoint directory:
 *   model.json + weight shards      the model (topology and every weight, batch-norm statistics included)
 *   optimizer.json + optimizer.bin  the optimizer's state (Adam: iteration count and moments) as tfjs weights
 *   best.json + best.bin            weights of the best epoch so far, when early stopping restores them
 *   state.json                      where training stands (written last: its presence marks a complete checkpoint)
 */
type NamedTensor = { name: string; tensor: tf.Tensor }

export interface TrainingPosition<S = unknown> {
  version: 1
  /** Optimizer steps done. */
  step: number
  /** Epoch and batch index the run continues with. */
  epoch: number
  batch: number
  /** Whatever else the trainer needs (history, early-stopping state, running sums). */
  trainer: S
}

async function writeNamedTensors(dir: string, name: string, tensors: NamedTensor[]): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors)
  await writeFile(join(dir, `${name}.bin`), new Uint8Array(data))
  await writeFile(join(dir, `${name}.json`), JSON.stringify({ specs }))
}

async function readNamedTensors(dir: string, name: string): Promise<NamedTensor[] | null> {
  const json = await readFile(join(dir, `${name}.json`), 'utf8').catch(() => null)
  if (json === null) return null
  const parsed = parseJsonText(json)
  if (!parsed.ok) throw new AppError('INVALID_PARAMETERS', `Checkpoint file ${join(dir, `${name}.json`)} ${parsed.problem}`, { path: join(dir, `${name}.json`) })
  const { specs } = parsed.value as { specs: tf.io.WeightsManifestEntry[] }
  const buf = await readFile(join(dir, `${name}.bin`))
  const map = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer, specs)
  // decodeWeights returns a map; the specs keep the order that setWeights relies on.
  return specs.map((s) => ({ name: s.name, tensor: map[s.name] }))
}

export async function saveCheckpoint<S>(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  position: TrainingPosition<S>,
  best: Float32Array[] | null
): Promise<void> {
  // Written into a sibling directory and swapped in, so an interrupted save never corrupts the last checkpoint.
  const tmp = `${dir}.writing`
  await rm(tmp, { recursive: true, force: true })
  await mkdir(tmp, { recursive: true })
  await model.save(fsHandler(tmp))
  const optimizerWeights = await optimizer.getWeights()
  try {
    await writeNamedTensors(tmp, 'optimizer', optimizerWeights)
  } finally {
    // getWeights() makes a fresh scalar for the iteration count; the rest are the optimizer's own variables.
    optimizerWeights[0]?.tensor.dispose()
  }
  if (best) {
    const tensors = best.map((values, i) => ({ name: `w${i}`, tensor: tf.tensor(values, model.weights[i].read().shape) }))
    try {
      await writeNamedTensors(tmp, 'best', tensors)
    } finally {
      for (const t of tensors) t.tensor.dispose()
    }
  }
  await writeFile(join(tmp, 'state.json'), JSON.stringify(position))
  const old = `${dir}.old`
  await rm(old, { recursive: true, force: true })
  await rename(dir, old).catch(() => undefined)
  await rename(tmp, dir)
  await rm(old, { recursive: true, force: true })
}

export interface LoadedCheckpoint<S> {
  position: TrainingPosition<S>
  /** Best-epoch weights in model.weights order, when the run keeps them. */
  best: Float32Array[] | null
}

/** Restores weights into `model` (same architecture, by weight order) and state into `optimizer`. */
export async function loadCheckpoint<S>(dir: string, model: tf.LayersModel, optimizer: tf.Optimizer): Promise<LoadedCheckpoint<S>> {
  const stateText = await readFile(join(dir, 'state.json'), 'utf8').catch(() => null)
  if (stateText === null) throw new AppError('NOT_FOUND', `No complete checkpoint in ${dir}`, { path: dir })
  const state = parseJsonText(stateText)
  if (!state.ok) throw new AppError('INVALID_PARAMETERS', `Checkpoint file ${join(dir, 'state.json')} ${state.problem}`, { path: join(dir, 'state.json') })
  const position = state.value as TrainingPosition<S>
  const artifacts = await loadModelArtifacts(dir)
  const specs = artifacts.weightSpecs ?? []
  const map = tf.io.decodeWeights(artifacts.weightData!, specs)
  const weights = specs.map((s) => map[s.name])
  const current = model.weights
  if (weights.length !== current.length || weights.some((w, i) => !tf.util.arraysEqual(w.shape, current[i].read().shape))) {
    for (const w of weights) w.dispose()
    throw new AppError('MODEL_FILE_INVALID', `Checkpoint ${dir} does not fit this model's weights`, { path: dir })
  }
  model.setWeights(weights)
  for (const w of weights) w.dispose()
  const opt = await readNamedTensors(dir, 'optimizer')
  if (opt && opt.length > 0) {
    await optimizer.setWeights(opt)
    for (const t of opt) t.tensor.dispose()
  }
  const best = await readNamedTensors(dir, 'best')
  const bestValues = best ? best.map((b) => Float32Array.from(b.tensor.dataSync())) : null
  for (const b of best ?? []) b.tensor.dispose()
  return { position, best: bestValues }
}
