import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import { join } from 'node:path'
import type { ModelSidecar } from '@common/modelSidecar'
import {
  TEXTURE_MNIST_CLASSES,
  TEXTURE_MNIST_CLASS_COUNT,
  TEXTURE_MNIST_SIZE,
  type TextureMnistSpecInput
} from '@common/textureMnist'
import { generateTextureMnistArrays } from '../datasets/textureMnist'
import { buildModel, modelStats, parseModelSpec } from '../engine/models/index'
import type * as tf from '@tensorflow/tfjs'
import { readSidecar, saveModel } from '../engine/modelFiles'
import { loadModelArtifacts } from '../engine/modelFiles/fsHandler'
import type { EnginePool } from '../engine/pool/pool'
import { artifactsRef, loadModelFromArtifacts, modelToArtifacts } from '../engine/pool/modelCache'
import type { SegmentationData } from '../engine/training/data'
import { trainDataParallel } from '../engine/training/parallel'
import { trainingRunRecord } from '../engine/training/sidecarRecord'
import type { EpochMetrics, TrainOptions, TrainProgress } from '../engine/training/trainer'
import { trainingKey, type BenchmarkTrainingConfig } from './trainingConfig'

export interface TrainBenchmarkOptions {
  pool: EnginePool
  config: BenchmarkTrainingConfig
  /** Held-out images of the training distribution (the spec's own test split) for per-epoch validation. */
  valCount: number
  name: string
  outDir: string
  checkpointDir: string
  /** Continue from checkpointDir when it holds a checkpoint of the same plan. */
  resume?: boolean
  /** Recorded in the sidecar and the log: how to reproduce the weights. */
  command: string
  signal?: AbortSignal
  onProgress?: (p: TrainProgress) => void
  log?: (line: string) => void
  /**
   * The folder of the model whose weights training starts from (config.train.init names it); the architecture
   * must be the one the config builds.
   */
  initFrom?: string
  /** Extra fields for the training log (machine notes, wall time of earlier runs). */
  logExtra?: Record<string, unknown>
}

export interface EpochLogEntry extends EpochMetrics {
  imagesPerSecond: number
  wallSeconds: number
  finishedAt: string
}

export function datasetSpecFor(config: BenchmarkTrainingConfig, valCount: number): TextureMnistSpecInput {
  const d = config.data
  return {
    trainCount: d.trainCount,
    testCount: valCount,
    bias: d.bias,
    biasedDigit: d.biasedDigit,
    biasTexture: d.biasTexture,
    seed: d.seed,
    layout: d.layout
  }
}

/**
 * The weights of the model in `dir` as the start of a fine-tuning run, checked against what the config expects:
 * the same weights (content hash) and the same layer shapes as the freshly built network, so a fine-tuned model can
 * only ever start from the very model its key names.
 */
async function fineTuneStart(dir: string, built: tf.io.ModelArtifacts, contentHashWanted: string): Promise<tf.io.ModelArtifacts> {
  const sidecar = await readSidecar(dir)
  if (sidecar.contentHash !== contentHashWanted) {
    throw new Error(`the model in ${dir} has content ${sidecar.contentHash.slice(0, 12)}, the config fine-tunes ${contentHashWanted.slice(0, 12)}`)
  }
  const start = await loadModelArtifacts(dir)
  const shapes = (a: tf.io.ModelArtifacts): string => JSON.stringify((a.weightSpecs ?? []).map((w) => w.shape))
  if (shapes(start) !== shapes(built)) throw new Error(`the model in ${dir} does not have the architecture of the config it should start`)
  return start
}

/**
 * Generates the texture-MNIST training set of one benchmark configuration, trains the U-Net data-parallel over
 * the pool with the project's trainer, and saves the weights of the epoch with the best validation mIoU on
 * held-out images of the training distribution (biased when the training set is: a user with biased data has
 * no unbiased set to select on; the unbiased evaluation is the benchmark's job), with a sidecar that records
 * the config so the benchmark can recognise the model, and a per-epoch training log.
 */
export async function trainBenchmarkModel(o: TrainBenchmarkOptions): Promise<{ sidecar: ModelSidecar; log: Record<string, unknown> }> {
  const t0 = performance.now()
  const startedAt = new Date().toISOString()
  const say = o.log ?? (() => undefined)
  const { config } = o
  const key = trainingKey(config)
  const dataSpec = datasetSpecFor(config, o.valCount)
  const tg = performance.now()
  const train = await generateTextureMnistArrays(dataSpec, 'train', { signal: o.signal })
  const val = await generateTextureMnistArrays(dataSpec, 'test', { signal: o.signal })
  const genSeconds = (performance.now() - tg) / 1000
  const biasedTrain = train.meta.filter((m) => m.isBiased).length
  say(`data: ${train.count} train (${biasedTrain} biased) + ${val.count} val images, generated in ${genSeconds.toFixed(1)} s`)
  const S = TEXTURE_MNIST_SIZE
  const trainData: SegmentationData = { images: train.images, labels: train.labels, shape: [train.count, S, S, 1] }
  const valData: SegmentationData = { images: val.images, labels: val.labels, shape: [val.count, S, S, 1] }

  const spec = parseModelSpec({
    architecture: 'unet-vgg',
    inputShape: [S, S, 1],
    numClasses: TEXTURE_MNIST_CLASS_COUNT,
    width: config.model.width,
    levels: config.model.levels,
    batchNorm: config.model.batchNorm,
    seed: config.model.seed
  })
  const initial = buildModel(spec)
  const stats = modelStats(initial)
  say(`model: unet-vgg width ${spec.width}, ${spec.levels} poolings, ${stats.params} parameters, ${(stats.macs / 1e6).toFixed(1)} MMAC per image`)
  let initialArtifacts = await modelToArtifacts(initial)
  initial.dispose()
  if (config.train.init) {
    if (!o.initFrom) throw new Error(`training config ${key} fine-tunes model ${config.train.init.trainingKey} but no folder was given for it`)
    initialArtifacts = await fineTuneStart(o.initFrom, initialArtifacts, config.train.init.contentHash)
    say(`fine-tuning from ${o.initFrom} (content ${config.train.init.contentHash.slice(0, 12)})`)
  }

  const { epochs, batchSize, learningRate, seed } = config.train
  if (!o.resume) await rm(o.checkpointDir, { recursive: true, force: true })
  await mkdir(o.checkpointDir, { recursive: true })
  const options: TrainOptions = {
    epochs,
    batchSize,
    learningRate,
    seed,
    // Texture-MNIST has no ignore label: ids are 0–10, so 255 never occurs.
    ignoreLabel: 255,
    checkpointDir: o.checkpointDir,
    checkpointEvery: 50,
    evalBatchSize: 50,
    earlyStopping: { monitor: 'valMiou', restoreBest: 'atEnd' }
  }

  let epochImages = 0
  let epochStart = performance.now()
  const epochLog: EpochLogEntry[] = []
  const result = await trainDataParallel(
    o.pool,
    artifactsRef(initialArtifacts, `benchmark-initial-${key}`),
    trainData,
    options,
    {
      ...(o.resume ? { resumeFrom: o.checkpointDir } : {}),
      signal: o.signal,
      onProgress: (p) => {
        if (p.kind === 'batch') {
          epochImages += Math.min(batchSize, train.count - p.batch * batchSize)
          if (p.batch % 25 === 0 || p.batch === p.batches - 1) {
            const rate = epochImages / ((performance.now() - epochStart) / 1000)
            say(`  epoch ${p.epoch + 1} batch ${p.batch + 1}/${p.batches} loss ${p.loss.toFixed(4)} ${rate.toFixed(1)} img/s, ${((performance.now() - t0) / 60000).toFixed(1)} min`)
          }
        } else if (p.kind === 'epoch') {
          const m = p.metrics
          const secs = (performance.now() - epochStart) / 1000
          const rate = epochImages / secs
          epochLog.push({ ...m, epoch: m.epoch + 1, imagesPerSecond: rate, wallSeconds: secs, finishedAt: new Date().toISOString() })
          say(
            `epoch ${m.epoch + 1}/${epochs}: train loss ${m.trainLoss.toFixed(4)} acc ${m.trainPixelAccuracy.toFixed(4)} | ` +
              `val loss ${m.valLoss?.toFixed(4)} acc ${m.valPixelAccuracy?.toFixed(4)} mIoU ${m.valMiou?.toFixed(4)} | ` +
              `${rate.toFixed(1)} img/s, epoch ${secs.toFixed(0)} s incl. val, total ${((performance.now() - t0) / 60000).toFixed(1)} min`
          )
          epochImages = 0
          epochStart = performance.now()
        }
        o.onProgress?.(p)
      }
    },
    valData
  )

  // The trainer has put back the weights of the best epoch on the validation split (restoreBest 'atEnd').
  const model = await loadModelFromArtifacts(result.artifacts)
  try {
    const history: EpochMetrics[] = result.history
    const last = history[history.length - 1]
    const chosen = history.find((m) => m.epoch === result.bestEpoch) ?? last
    if (result.bestEpoch === null) say('no best epoch recorded; keeping the last epoch')
    else if (chosen !== last) say(`restored the weights of epoch ${chosen.epoch + 1} (best val mIoU ${chosen.valMiou?.toFixed(4)})`)

    await rm(o.outDir, { recursive: true, force: true })
    await mkdir(o.outDir, { recursive: true })
    const d = config.data
    const sidecar = await saveModel(model, o.outDir, {
      name: `texture-mnist-unet-${o.name}`,
      classes: TEXTURE_MNIST_CLASSES,
      ignoreId: null,
      input: { height: S, width: S, channels: 1 },
      normalisation: { kind: 'range', min: 0, max: 1 },
      architecture: 'unet-vgg',
      spec,
      training: {
        dataset: 'texture-mnist (src/main/datasets/textureMnist)',
        bias: d.bias === 'none' ? 'none' : `${d.bias}: digit ${d.biasedDigit}, texture ${d.biasTexture}`,
        datasetSpec: dataSpec,
        benchmark: config,
        benchmarkKey: key,
        ...trainingRunRecord({ history, chosen, images: history.length * train.count, batchSize, learningRate, seed, command: o.command })
      }
    })

    const trainSeconds = history.reduce((a, m) => a + m.seconds, 0)
    const log: Record<string, unknown> = {
      model: o.name,
      command: o.command,
      startedAt,
      finishedAt: new Date().toISOString(),
      wallSecondsThisRun: (performance.now() - t0) / 1000,
      dataGenerationSeconds: genSeconds,
      trainStepSeconds: trainSeconds,
      imagesPerSecond: (history.length * train.count) / trainSeconds,
      machine: { nproc: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version, poolWorkers: o.pool.size },
      network: { spec, params: stats.params, trainableParams: stats.trainableParams, macsPerImage: stats.macs },
      benchmark: config,
      benchmarkKey: key,
      dataset: { spec: dataSpec, trainImages: train.count, biasedTrainImages: biasedTrain, valImages: val.count },
      resumedFrom: result.resumedFrom,
      selectedEpoch: chosen.epoch + 1,
      // One entry per epoch: loss, pixel accuracy, val mIoU and wall time (history only, after a resume).
      epochs: epochLog.length === history.length ? epochLog : history.map((m) => ({ ...m, epoch: m.epoch + 1 })),
      epochsThisRun: epochLog,
      contentHash: sidecar.contentHash,
      ...o.logExtra
    }
    log.files = Object.fromEntries(await Promise.all((await readdir(o.outDir)).map(async (f) => [f, (await stat(join(o.outDir, f))).size] as const)))
    await writeFile(join(o.outDir, 'training-log.json'), `${JSON.stringify(log, null, 2)}\n`)
    return { sidecar, log }
  } finally {
    model.dispose()
  }
}
