/**
 * Trains one model of the context-bias benchmark (paper Sec. 4): the 4-pooling VGG U-Net on texture-MNIST with
 * the project's own data-parallel trainer (src/main/benchmark/train.ts, which `ctxlens benchmark` uses too), and
 * saves it with its sidecar and a training log under resources/benchmark-models/<name>/. The quick preset of
 * `ctxlens benchmark` reuses these models when the sidecar's training config matches its own.
 *
 *   npx tsx scripts/train-benchmark.ts --name N --bias none
 *   npx tsx scripts/train-benchmark.ts --name strong-d2-t3 --bias strong --digit 2 --texture 3
 *       [--seed 0] [--train 5000] [--val 500] [--epochs 8] [--width 0.5] [--levels 4] [--batch 16]
 *       [--lr 0.001] [--workers 2] [--root resources/benchmark-models] [--resume] [--backend auto|wasm|cpu]
 *
 * The data is generated in memory from the spec, so the weights are reproducible from the command alone. The
 * dataset seed also seeds the network's initialisation and the batch order.
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { BIAS_STRENGTHS, TEXTURE_NAMES, type BiasStrength } from '@common/textureMnist'
import { initBackend } from '@main/engine/backend'
import { registerZooLayers } from '@main/engine/models/index'
import { EnginePool } from '@main/engine/pool/pool'
import { trainBenchmarkModel } from '@main/benchmark/train'
import type { BenchmarkTrainingConfig } from '@main/benchmark/trainingConfig'

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`)
function num(name: string, fallback: string): number {
  const v = Number(arg(name, fallback))
  if (!Number.isFinite(v)) throw new Error(`--${name} must be a number, got '${arg(name, fallback)}'`)
  return v
}

const name = arg('name', '')
const bias = arg('bias', 'none') as BiasStrength
const digitArg = arg('digit', '')
const textureArg = arg('texture', '')
const seed = num('seed', '0')
const trainCount = num('train', '5000')
const valCount = num('val', '500')
const epochs = num('epochs', '8')
const width = num('width', '0.5')
const levels = num('levels', '4')
const batchSize = num('batch', '16')
const learningRate = num('lr', '0.001')
const workers = num('workers', '2')
const root = resolve(arg('root', 'resources/benchmark-models'))
const resume = flag('resume')
const backendFlag = arg('backend', process.env.CTXLENS_BACKEND ?? 'auto')

if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`--name is required (letters, digits, . _ -), got '${name}'`)
if (!(BIAS_STRENGTHS as readonly string[]).includes(bias)) throw new Error(`--bias must be one of ${BIAS_STRENGTHS.join(', ')}`)
if (bias !== 'none' && (digitArg === '' || textureArg === '')) throw new Error(`--bias ${bias} needs --digit and --texture`)
const biasedDigit = bias === 'none' ? null : Number(digitArg)
const biasTexture = bias === 'none' ? null : Number(textureArg)

const checkpointDir = join(tmpdir(), `ctxlens-train-benchmark-${name}`)
/** Wall time over interrupted and resumed runs, kept beside the checkpoint. */
const wallFile = `${checkpointDir}-wall.json`

async function readWall(): Promise<{ seconds: number; runs: { startedAt: string; seconds: number; command: string }[] }> {
  try {
    return JSON.parse(await readFile(wallFile, 'utf8'))
  } catch {
    return { seconds: 0, runs: [] }
  }
}

async function main(): Promise<void> {
  const t0 = performance.now()
  const startedAt = new Date().toISOString()
  const command = ['npx', 'tsx', 'scripts/train-benchmark.ts', ...process.argv.slice(2)].join(' ')
  console.log(`command: ${command}`)
  const info = await initBackend(backendFlag === 'auto' ? {} : { flag: backendFlag })
  registerZooLayers()
  if (bias !== 'none') console.log(`bias: ${bias}, digit ${biasedDigit}, texture ${biasTexture} (${TEXTURE_NAMES[biasTexture!]})`)

  const config: BenchmarkTrainingConfig = {
    data: { bias, biasedDigit, biasTexture, seed, trainCount, layout: 'halves' },
    model: { architecture: 'unet-vgg', width, levels, batchNorm: true, seed },
    train: { epochs, batchSize, learningRate, seed }
  }
  if (!resume) await rm(wallFile, { force: true })
  const wall = await readWall()
  // A resumed run knows the wall time of its own epochs only; the earlier run's log has the others.
  const earlier = resume ? await readFile(join(root, name, 'training-log.json'), 'utf8').then((t) => JSON.parse(t) as { epochs?: { epoch: number }[] }).catch(() => null) : null
  const pool = await EnginePool.create(workers, { backend: info.name })
  console.log(`pool: ${pool.size} workers on ${pool.backends().map((b) => b?.name).join(', ')}; batch ${batchSize}, Adam lr ${learningRate}, ${epochs} epochs`)
  let log: Record<string, unknown>
  try {
    ;({ log } = await trainBenchmarkModel({
      pool,
      config,
      valCount,
      name,
      outDir: join(root, name),
      checkpointDir,
      resume,
      command,
      log: (line) => console.log(line),
      logExtra: { note: 'shared machine: other engineers ran tests and builds during training', backend: info.name }
    }))
  } finally {
    await pool.dispose()
  }
  const seconds = (performance.now() - t0) / 1000
  const runs = [...wall.runs, { startedAt, seconds, command }]
  await writeFile(wallFile, JSON.stringify({ seconds: wall.seconds + seconds, runs }))
  log.wallSeconds = wall.seconds + seconds
  log.runs = runs
  const thisRun = log.epochsThisRun as { epoch: number }[]
  if (earlier?.epochs && thisRun.length) {
    const first = thisRun[0].epoch
    log.epochs = [...earlier.epochs.filter((e) => e.epoch < first), ...thisRun]
  }
  await writeFile(join(root, name, 'training-log.json'), `${JSON.stringify(log, null, 2)}\n`)
  console.log(
    `saved ${join(root, name)}: epoch ${log.selectedEpoch} of ${epochs}, val mIoU ${(log.epochs as { valMiou?: number }[])[(log.selectedEpoch as number) - 1]?.valMiou?.toFixed(4)}; ` +
      `${(log.imagesPerSecond as number).toFixed(1)} img/s over the training steps, wall ${(log.wallSeconds as number / 60).toFixed(1)} min`
  )
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
