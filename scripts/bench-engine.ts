/**
 * `npm run bench:engine`: the engine's speed on this machine, for each backend that loads.
 *   - forward ms per image (inference, batch 16; batch 4 for DeepLab),
 *   - forward + input-gradient ms per step at batch 1 and 16, and its ratio to the forward pass of the same batch
 *     (the saliency step: gradient of a request score with respect to the image, through the input-gradient graph),
 *   - how much 16 batched requests gain over 16 one by one,
 *   - training images/s in-process (batch 32; a few steps).
 * On the benchmark U-Net at 64×64×1 and DeepLabv3+ (MobileNetV2) at 128×256×3. Prints a markdown table.
 *
 *   npm run bench:engine -- [--backends wasm,cpu] [--reps 3] [--skip-deeplab] [--train-steps 3]
 *
 * Throughput of the worker pool is in bench:saliency and bench:training (they need the pool's threads).
 */
import * as tf from '@tensorflow/tfjs'
import type { ModelSpecInput } from '../src/common/modelSidecar'
import { BACKEND_NAMES, type BackendName } from '../src/common/types'
import { initBackend, resetBackendChoice } from '../src/main/engine/backend'
import { compileInputGradientGraph } from '../src/main/engine/inference/inputGradientGraph'
import { BENCHMARK_SPEC, buildModel, modelStats } from '../src/main/engine/models'
import { LocalEngine } from '../src/main/engine/training/trainer'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}
const backends = arg('backends', 'wasm').split(',') as BackendName[]
const reps = Number(arg('reps', '3'))
const trainSteps = Number(arg('train-steps', '3'))
const skipDeeplab = process.argv.includes('--skip-deeplab')

const DEEPLAB: ModelSpecInput = { architecture: 'deeplabv3plus-mobilenetv2', inputShape: [128, 256, 3], numClasses: 19, width: 1 }

/** Median of `reps` timed runs after one warm-up. */
async function time(fn: () => Promise<void> | void): Promise<number> {
  await fn()
  const ts: number[] = []
  for (let i = 0; i < reps; i++) {
    const t = performance.now()
    await fn()
    ts.push(performance.now() - t)
  }
  return ts.sort((a, b) => a - b)[Math.floor(ts.length / 2)]
}

interface Row {
  backend: string
  model: string
  params: number
  macs: number
  forwardPerImage: number
  step1: number
  step16: number
  ratio1: number
  ratio16: number
  batchGain: number
  train: number | null
}

async function benchModel(backend: string, name: string, spec: ModelSpecInput, batches: [number, number], train: boolean): Promise<Row> {
  const model = buildModel(spec)
  const stats = modelStats(model)
  const graph = compileInputGradientGraph(model)
  const [h, w, c] = spec.inputShape
  const classes = spec.numClasses
  const input = (n: number) => tf.randomUniform([n, h, w, c], 0, 1, 'float32', 1) as tf.Tensor4D
  const region = (n: number) => tf.randomUniform([n, h, w, 1], 0, 1, 'float32', 2).greater(0.7).toFloat()
  const forward = async (x: tf.Tensor4D) => {
    const y = graph.predict(x)
    await y.data()
    y.dispose()
  }
  // One saliency step's engine work: probabilities of class 1 inside R, summed, differentiated w.r.t. the image.
  const step = async (x: tf.Tensor4D, r: tf.Tensor) => {
    const g = tf.grad((inp: tf.Tensor) => graph.predict(inp as tf.Tensor4D).slice([0, 0, 0, 1 % classes], [-1, -1, -1, 1]).mul(r).sum())(x)
    await g.data()
    g.dispose()
  }
  const [b1, bN] = batches
  const x1 = input(b1)
  const xN = input(bN)
  const r1 = region(b1)
  const rN = region(bN)
  const fwd1 = await time(() => forward(x1))
  const fwdN = await time(() => forward(xN))
  const step1 = await time(() => step(x1, r1))
  const stepN = await time(() => step(xN, rN))
  let trainRate: number | null = null
  if (train) {
    const engine = new LocalEngine(model, { learningRate: 1e-3 }, 255)
    const images = tf.randomUniform([32, h, w, c], 0, 1, 'float32', 3).dataSync() as Float32Array
    const labels = Int32Array.from(tf.randomUniform([32 * h * w], 0, classes, 'int32', 4).dataSync())
    const shape: [number, number, number, number] = [32, h, w, c]
    await engine.step(images.slice(), labels.slice(), shape, 32 * h * w)
    const t = performance.now()
    for (let i = 0; i < trainSteps; i++) await engine.step(images.slice(), labels.slice(), shape, 32 * h * w)
    trainRate = (trainSteps * 32) / ((performance.now() - t) / 1000)
    engine.dispose()
  }
  tf.dispose([x1, xN, r1, rN])
  graph.dispose()
  model.dispose()
  const row: Row = {
    backend,
    model: name,
    params: stats.params,
    macs: stats.macs,
    forwardPerImage: fwdN / bN,
    step1,
    step16: stepN,
    ratio1: step1 / fwd1,
    ratio16: stepN / fwdN,
    batchGain: (step1 * bN) / b1 / stepN,
    train: trainRate
  }
  console.error(JSON.stringify(row))
  return row
}

async function main(): Promise<void> {
  const rows: Row[] = []
  for (const name of backends) {
    if (!(BACKEND_NAMES as readonly string[]).includes(name)) throw new Error(`unknown backend ${name}`)
    resetBackendChoice()
    const info = await initBackend({ flag: name }).catch((err: Error) => {
      console.error(`${name}: not available (${err.message})`)
      return null
    })
    if (!info) continue
    if (tf.getBackend() !== info.tfBackend) throw new Error(`asked for ${name}, running on ${tf.getBackend()}`)
    const slow = name === 'cpu'
    rows.push(await benchModel(name, 'U-Net (benchmark) 64×64×1', BENCHMARK_SPEC, [1, 16], !slow))
    if (!skipDeeplab && !slow) rows.push(await benchModel(name, 'DeepLabv3+ MobileNetV2 128×256×3', DEEPLAB, [1, 4], false))
  }
  console.log(`\nDate: ${new Date().toISOString().slice(0, 10)} · median of ${reps} runs after a warm-up\n`)
  console.log('| backend | model | params | MMAC/image | forward ms/image | fwd+grad ms/step, batch 1 | fwd+grad ms/step, batch N | fwd+grad ÷ fwd (1 / N) | batched gain | training images/s |')
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    const n = r.model.startsWith('DeepLab') ? 4 : 16
    console.log(
      `| ${r.backend} | ${r.model} | ${r.params.toLocaleString('en')} | ${(r.macs / 1e6).toFixed(0)} | ${r.forwardPerImage.toFixed(1)} | ${r.step1.toFixed(0)} | ${r.step16.toFixed(0)} (N=${n}) | ${r.ratio1.toFixed(2)} / ${r.ratio16.toFixed(2)} | ${r.batchGain.toFixed(2)}× | ${r.train === null ? '-' : r.train.toFixed(1)} |`
    )
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
