/**
 * Trains the demo project's model: a 4-level VGG U-Net on the procedural street scenes (64×128 RGB, 10 classes),
 * data parallel over the engine's worker pool with the project's own trainer, and saves it with its sidecar and a
 * training log.
 *
 *   npx tsx scripts/train-demo.ts [--epochs 14] [--width 0.5] [--out resources/demo-model] [--resume]
 *       [--batch 16] [--lr 0.001] [--seed 0] [--workers 2] [--train 3000] [--val 300] [--patience 0]
 *       [--checkpoint-dir DIR] [--backend auto|wasm|cpu]
 *
 * The data is generated in memory from the street-scene spec (the generator's defaults, seed 0), so the weights
 * are reproducible from this command alone. A checkpoint is written after every epoch (and every 50 steps);
 * `--resume` continues an interrupted run from it with the same batches. The weights saved are those of the
 * epoch with the best validation mIoU (the trainer puts them back), not necessarily the last epoch's.
 */
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { cpus, availableParallelism, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { STREET_SCENE_CLASSES, STREET_SCENE_IGNORE_ID, type StreetScenesSpec } from '@common/streetScenes'
import { initBackend } from '@main/engine/backend'
import { generateStreetSceneArrays, parseStreetScenesSpec } from '@main/datasets/streetScenes'
import { buildModel, modelStats, parseModelSpec, registerZooLayers } from '@main/engine/models/index'
import { saveModel } from '@main/engine/modelFiles'
import { EnginePool } from '@main/engine/pool/pool'
import { artifactsRef, loadModelFromArtifacts, modelToArtifacts } from '@main/engine/pool/modelCache'
import type { SegmentationData } from '@main/engine/training/data'
import { trainDataParallel } from '@main/engine/training/parallel'
import { trainingRunRecord } from '@main/engine/training/sidecarRecord'
import type { EpochMetrics, TrainOptions } from '@main/engine/training/trainer'

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`)

const epochs = Number(arg('epochs', '14'))
const width = Number(arg('width', '0.5'))
const outDir = resolve(arg('out', 'resources/demo-model'))
const resume = flag('resume')
const batchSize = Number(arg('batch', '16'))
const learningRate = Number(arg('lr', '0.001'))
const seed = Number(arg('seed', '0'))
const workers = Number(arg('workers', '2'))
const trainCount = Number(arg('train', '3000'))
const valCount = Number(arg('val', '300'))
/** Early stopping on val mIoU after this many epochs without improvement; 0 = run every epoch. */
const patience = Number(arg('patience', '0'))
const checkpointDir = resolve(arg('checkpoint-dir', join(tmpdir(), 'ctxlens-train-demo-checkpoint')))
const backendFlag = arg('backend', process.env.CTXLENS_BACKEND ?? 'auto')

const MODEL_NAME = 'demo-street-unet'
const WALL_FILE = join(checkpointDir, '..', 'ctxlens-train-demo-wall.json')

function fmt(n: number | undefined, d = 4): string {
  return n === undefined ? '—' : n.toFixed(d)
}

async function readWall(): Promise<{ seconds: number; runs: { startedAt: string; seconds: number; command: string }[] }> {
  try {
    return JSON.parse(await readFile(WALL_FILE, 'utf8'))
  } catch {
    return { seconds: 0, runs: [] }
  }
}

async function main(): Promise<void> {
  const t0 = performance.now()
  const startedAt = new Date().toISOString()
  const command = ['npx', 'tsx', 'scripts/train-demo.ts', ...process.argv.slice(2)].join(' ')
  const info = await initBackend(backendFlag === 'auto' ? {} : { flag: backendFlag })
  registerZooLayers()

  // The dataset: the generator's defaults at 64×128; train and val splits in memory.
  const dataSpec: StreetScenesSpec = parseStreetScenesSpec({ seed, counts: { train: trainCount, val: valCount, test: 300 } })
  const tg = performance.now()
  const train = await generateStreetSceneArrays(dataSpec, 'train')
  const val = await generateStreetSceneArrays(dataSpec, 'val')
  const genSeconds = (performance.now() - tg) / 1000
  console.log(`data: ${train.count} train + ${val.count} val images of ${dataSpec.height}×${dataSpec.width} generated in ${genSeconds.toFixed(1)} s`)
  const pixelCounts = new Array(STREET_SCENE_CLASSES.length).fill(0)
  for (const v of train.labels) pixelCounts[v]++
  const total = train.labels.length
  console.log(`train pixel shares: ${STREET_SCENE_CLASSES.map((c) => `${c.name} ${((100 * pixelCounts[c.id]) / total).toFixed(2)}%`).join(', ')}`)

  const trainData: SegmentationData = { images: train.images, labels: train.labels, shape: [train.count, dataSpec.height, dataSpec.width, 3] }
  const valData: SegmentationData = { images: val.images, labels: val.labels, shape: [val.count, dataSpec.height, dataSpec.width, 3] }

  const spec = parseModelSpec({
    architecture: 'unet-vgg',
    inputShape: [dataSpec.height, dataSpec.width, 3],
    numClasses: STREET_SCENE_CLASSES.length,
    width,
    levels: 4,
    batchNorm: true,
    seed
  })
  const initial = buildModel(spec)
  const stats = modelStats(initial)
  console.log(`model: unet-vgg width ${width}, ${stats.params} parameters (${stats.trainableParams} trainable), ${(stats.macs / 1e6).toFixed(1)} MMAC per image`)
  const initialArtifacts = await modelToArtifacts(initial)
  initial.dispose()

  const canResume = resume && existsSync(join(checkpointDir, 'state.json'))
  if (resume && !canResume) console.log(`--resume: no checkpoint in ${checkpointDir}, starting afresh`)
  if (!canResume) {
    await rm(checkpointDir, { recursive: true, force: true })
    await rm(WALL_FILE, { force: true })
  }
  await mkdir(checkpointDir, { recursive: true })
  const wall = await readWall()

  const options: TrainOptions = {
    epochs,
    batchSize,
    learningRate,
    seed,
    ignoreLabel: STREET_SCENE_IGNORE_ID,
    checkpointDir,
    checkpointEvery: 50,
    evalBatchSize: 50,
    // patience 0 = never stop; either way the model ends with the best epoch's weights.
    earlyStopping: { monitor: 'valMiou', ...(patience > 0 ? { patience } : {}), restoreBest: 'atEnd' }
  }

  const pool = await EnginePool.create(workers, { backend: info.name })
  console.log(`pool: ${pool.size} workers on ${pool.backends().map((b) => b?.name).join(', ')}; batch ${batchSize}, Adam lr ${learningRate}, ${epochs} epochs`)
  let epochImages = 0
  let epochStart = performance.now()
  const wallAtStart = wall.seconds
  const saveWall = async (): Promise<void> => {
    const seconds = (performance.now() - t0) / 1000
    const runs = [...wall.runs, { startedAt, seconds, command }]
    await writeFile(WALL_FILE, JSON.stringify({ seconds: wallAtStart + seconds, runs }))
  }
  const epochRates: { epoch: number; imagesPerSecond: number; wallSeconds: number }[] = []

  let result
  try {
    result = await trainDataParallel(
      pool,
      artifactsRef(initialArtifacts, 'demo-initial'),
      trainData,
      options,
      {
        ...(canResume ? { resumeFrom: checkpointDir } : {}),
        onProgress: (p) => {
          if (p.kind === 'batch') {
            epochImages += Math.min(batchSize, train.count - p.batch * batchSize)
            if (p.batch % 50 === 0 || p.batch === p.batches - 1) {
              const rate = epochImages / ((performance.now() - epochStart) / 1000)
              process.stdout.write(`  epoch ${p.epoch + 1} batch ${p.batch + 1}/${p.batches} loss ${p.loss.toFixed(4)} ${rate.toFixed(1)} img/s\n`)
            }
          } else if (p.kind === 'epoch') {
            const m = p.metrics
            const secs = (performance.now() - epochStart) / 1000
            const rate = epochImages / secs
            epochRates.push({ epoch: m.epoch, imagesPerSecond: rate, wallSeconds: secs })
            console.log(
              `epoch ${m.epoch + 1}/${epochs}: train loss ${fmt(m.trainLoss)} acc ${fmt(m.trainPixelAccuracy)} | val loss ${fmt(m.valLoss)} ` +
                `acc ${fmt(m.valPixelAccuracy)} mIoU ${fmt(m.valMiou)} | ${rate.toFixed(1)} img/s (train steps), epoch ${secs.toFixed(0)} s incl. val, ` +
                `total ${((performance.now() - t0) / 60000).toFixed(1)} min`
            )
            epochImages = 0
            epochStart = performance.now()
            void saveWall()
          }
        }
      },
      valData
    )
  } finally {
    await pool.dispose()
  }
  await saveWall()

  // The trainer has put back the weights of the epoch with the best validation mIoU (restoreBest 'atEnd').
  const model = await loadModelFromArtifacts(result.artifacts)
  const history: EpochMetrics[] = result.history
  const last = history[history.length - 1]
  const chosen = history.find((m) => m.epoch === result.bestEpoch) ?? last
  if (result.bestEpoch === null) console.log('no best epoch recorded; keeping the last epoch')
  else if (chosen !== last) console.log(`restored the weights of epoch ${chosen.epoch + 1} (best val mIoU ${fmt(chosen.valMiou)})`)
  const wallTotal = (await readWall()).seconds

  await rm(outDir, { recursive: true, force: true })
  await mkdir(outDir, { recursive: true })
  const trainingImages = history.length * train.count
  const sidecar = await saveModel(model, outDir, {
    name: MODEL_NAME,
    classes: STREET_SCENE_CLASSES,
    ignoreId: STREET_SCENE_IGNORE_ID,
    input: { height: dataSpec.height, width: dataSpec.width, channels: 3 },
    normalisation: { kind: 'range', min: 0, max: 1 },
    architecture: 'unet-vgg',
    spec,
    training: {
      dataset: 'street-scenes (procedural, src/main/datasets/streetScenes)',
      datasetSpec: dataSpec,
      ...trainingRunRecord({ history, chosen, images: trainingImages, batchSize, learningRate, seed, command })
    }
  })

  const trainSeconds = history.reduce((a, m) => a + m.seconds, 0)
  const log = {
    model: MODEL_NAME,
    command,
    commands: (await readWall()).runs.map((r) => r.command),
    startedAt,
    finishedAt: new Date().toISOString(),
    wallSeconds: wallTotal,
    wallSecondsThisRun: (performance.now() - t0) / 1000,
    dataGenerationSeconds: genSeconds,
    trainStepSeconds: trainSeconds,
    imagesPerSecond: (history.length * train.count) / trainSeconds,
    epochRates,
    machine: {
      nproc: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      backend: info.name,
      poolWorkers: workers
    },
    network: { spec, params: stats.params, trainableParams: stats.trainableParams, macsPerImage: stats.macs },
    options: { epochs, batchSize, learningRate, seed, patience, checkpointEvery: options.checkpointEvery },
    dataset: { spec: dataSpec, trainPixelShares: Object.fromEntries(STREET_SCENE_CLASSES.map((c) => [c.name, pixelCounts[c.id] / total])) },
    resumedFrom: result.resumedFrom,
    stoppedEarly: result.stoppedEarly,
    selectedEpoch: chosen.epoch + 1,
    epochs: history.map((m) => ({ ...m, epoch: m.epoch + 1 })),
    contentHash: sidecar.contentHash,
    files: Object.fromEntries(await Promise.all((await readdir(outDir)).map(async (f) => [f, (await stat(join(outDir, f))).size] as const)))
  }
  await writeFile(join(outDir, 'training-log.json'), `${JSON.stringify(log, null, 2)}\n`)
  console.log(
    `saved ${outDir}: epoch ${chosen.epoch + 1} of ${history.length}, val mIoU ${fmt(chosen.valMiou)}; ` +
      `${log.imagesPerSecond.toFixed(1)} img/s over the training steps, wall ${(wallTotal / 60).toFixed(1)} min`
  )
  model.dispose()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
