/**
 * `npm run bench:saliency`: seconds per saliency request through the same path the app uses (a model location →
 * openSegmentationModel → computeSaliency), in process and over the engine's worker pool, on either runtime.
 *
 *   npm run bench:saliency -- [--runtime tfjs|onnx] [--model LOCATION] [--preset synthetic|cityscapes]
 *                             [--steps N] [--batches 1,16] [--methods grid,context,vg,ig,sg] [--ig-steps 50]
 *                             [--sg-samples 50] [--workers 2 (0: no pool rows)] [--threads N] [--backend wasm] [--levels 4] [--repeat 3]
 *
 * Without --model: the benchmark U-Net (zoo 'unet-vgg', 64×64×1, 11 classes, random but fixed weights), as a tfjs
 * folder, or exported to ONNX (the zoo exporter) for --runtime onnx. With --model: a tfjs folder or a described
 * .onnx file (`ctxlens models describe`), e.g. resources/benchmark-models/strong-d2-t3 and its model.onnx.
 *
 * Before the saliency rows, the per-batch cost of one forward pass (predict) and one grid-saliency step (forward +
 * objective + backward, perturbationStep) in process: the step ÷ forward ratio is what issue 13's "a step costs at
 * most 3 forward passes" asks. Per-request time = wall time of the run / requests. Medians of --repeat runs.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type PerturbationParams, saliencyParams, type SaliencyMethod, type SaliencyPresetName } from '../src/common/saliency'
import { initBackend } from '../src/main/engine/backend'
import { exportModelFolder } from '../src/main/engine/export/exportModelFolder'
import { saveModel } from '../src/main/engine/modelFiles'
import { BENCHMARK_SPEC, buildModel, modelStats } from '../src/main/engine/models'
import { openSegmentationModel } from '../src/main/engine/openModel'
import { EnginePool } from '../src/main/engine/pool/pool'
import { engineHandlerModules } from '../src/main/engineHandlers'
import type { OpenedSegmentationModel } from '../src/main/engine/segmentationModel'
import { computeSaliency, type SaliencyRequest } from '../src/main/saliency'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}
const runtime = arg('runtime', 'tfjs')
const preset = arg('preset', 'synthetic') as SaliencyPresetName
const batches = arg('batches', '1,16').split(',').map(Number)
const methods = arg('methods', 'grid,context,vg,ig,sg').split(',') as SaliencyMethod[]
const igSteps = Number(arg('ig-steps', '50'))
const sgSamples = Number(arg('sg-samples', '50'))
const workers = Number(arg('workers', '2'))
const repeat = Number(arg('repeat', '3'))
const backendFlag = arg('backend', 'auto')
const threads = arg('threads', '')
if (threads) process.env.CTXLENS_ONNX_THREADS = threads
const modelArg = arg('model', '')
// --levels 2 gives the 2-pooling U-Net (~118k parameters) that the PyTorch reference in design.md timed.
const spec = { ...BENCHMARK_SPEC, levels: Number(arg('levels', String(BENCHMARK_SPEC.levels ?? 4))) }

const isPerturbation = (m: SaliencyMethod) => m === 'grid' || m === 'context'
const presetSteps = (saliencyParams('grid', preset) as PerturbationParams).steps
const steps = Number(arg('steps', String(presetSteps)))

function params(method: SaliencyMethod) {
  if (isPerturbation(method)) return saliencyParams(method, preset, { steps, earlyStop: { enabled: false } })
  if (method === 'ig') return saliencyParams(method, preset, { steps: igSteps })
  if (method === 'sg') return saliencyParams(method, preset, { samples: sgSamples })
  return saliencyParams(method, preset)
}

/** Images with a rectangular request in the middle, different per request so nothing is cached by accident. */
function requests(model: OpenedSegmentationModel, n: number): SaliencyRequest[] {
  const [h, w, c] = model.inputShape as [number, number, number]
  const [lo, hi] = model.inputRange
  return Array.from({ length: n }, (_, i) => {
    const data = new Float32Array(h * w * c)
    const request = new Uint8Array(h * w)
    for (let p = 0; p < data.length; p++) data[p] = lo + ((hi - lo) * ((p * 7919 + i * 104729) % 1000)) / 1000
    const y0 = Math.floor(h * 0.3)
    const x0 = Math.floor(w * 0.25) + (i % 8)
    for (let y = y0; y < Math.floor(h * 0.7); y++) for (let x = x0; x < Math.min(w, x0 + Math.floor(w * 0.4)); x++) request[y * w + x] = 1
    return { id: `r${i}`, image: { data, height: h, width: w, channels: c }, request, classId: i % model.numClasses }
  })
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  await fn() // warm-up: session building (ONNX) and kernel setup are not billed
  const times: number[] = []
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now()
    await fn()
    times.push(performance.now() - t0)
  }
  return median(times)
}

/** The model location to benchmark: --model, or the random benchmark U-Net written to a temporary folder. */
async function modelLocation(dir: string): Promise<{ location: string; about: string }> {
  if (modelArg) return { location: modelArg, about: modelArg }
  const model = buildModel(spec)
  const stats = modelStats(model)
  const classes = Array.from({ length: 11 }, (_, id) => ({ id, name: id === 10 ? 'background' : String(id), color: [id * 20, 0, 0] as [number, number, number] }))
  const input = { height: 64, width: 64, channels: 1 }
  const normalisation = { kind: 'range' as const, min: 0, max: 1 }
  await saveModel(model, dir, { name: 'benchmark-unet', classes, ignoreId: null, input, normalisation, architecture: 'unet-vgg', spec })
  model.dispose()
  const about = `benchmark U-Net (${spec.levels} poolings, ${stats.params.toLocaleString('en')} parameters, ${(stats.macs / 1e6).toFixed(1)} M MACs per image, random weights)`
  if (runtime === 'tfjs') return { location: dir, about }
  const onnxFile = join(dir, 'model.onnx')
  await writeFile(onnxFile, (await exportModelFolder(dir)).bytes)
  const description = { format: 'ctxlens.model', version: 1, name: 'benchmark-unet', modelFormat: 'onnx', classes, ignoreId: null, input, normalisation, layout: 'NHWC', output: 'probabilities' }
  await writeFile(`${onnxFile}.ctxlens.json`, JSON.stringify(description, null, 2))
  return { location: onnxFile, about: `${about}, exported to ONNX` }
}

async function main(): Promise<void> {
  const backend = await initBackend({ flag: backendFlag })
  const dir = await mkdtemp(join(tmpdir(), 'ctxlens-bench-'))
  const { location, about } = await modelLocation(dir)
  const model = await openSegmentationModel(location)
  if (model.runtime !== runtime) throw new Error(`--runtime ${runtime} but ${location} opens on ${model.runtime}`)
  const [h, w, c] = model.inputShape as [number, number, number]
  const p0 = params('grid')
  const mh = 'maskHeight' in p0 ? p0.maskHeight : 4
  const mw = 'maskWidth' in p0 ? p0.maskWidth : 4
  console.error(`runtime ${model.runtime}${runtime === 'tfjs' ? ` (${backend.name})` : ` (${process.env.CTXLENS_ONNX_THREADS ?? 'all'} threads in process)`}; ${about}`)

  const costRows: string[][] = []
  for (const b of batches) {
    const reqs = requests(model, b)
    const images = new Float32Array(b * h * w * c)
    reqs.forEach((r, i) => images.set(r.image.data, i * h * w * c))
    const g = { batch: b, height: h, width: w, channels: c }
    const fwd = await timeMs(() => model.predict(images, g))
    const classOneHot = new Float32Array(b * model.numClasses)
    reqs.forEach((r, i) => (classOneHot[i * model.numClasses + r.classId] = 1))
    const stepArgs = {
      ...g,
      maskHeight: mh,
      maskWidth: mw,
      masks: new Float32Array(b * mh * mw).fill(0.5),
      images,
      start: new Float32Array(images.length),
      requestMasks: Float32Array.from(reqs.flatMap((r) => Array.from(r.request))),
      classOneHot,
      originalProb: new Float32Array(b * h * w).fill(0.5),
      lambda: 0.05,
      clip: model.inputRange,
      withGradient: true
    }
    const step = await timeMs(() => model.perturbationStep(stepArgs))
    costRows.push([String(b), (fwd / b).toFixed(1), (step / b).toFixed(1), (step / fwd).toFixed(2)])
    console.error(`batch ${b}: forward ${(fwd / b).toFixed(1)} ms/image, step ${(step / b).toFixed(1)} ms/image, ratio ${(step / fwd).toFixed(2)}`)
  }

  const rows: string[][] = []
  const record = (method: string, where: string, batch: number, n: number, ms: number) => {
    const per = ms / n / 1000
    rows.push([method, where, String(batch), String(n), per.toFixed(3)])
    console.error(`${method} ${where} batch ${batch}: ${per.toFixed(3)} s/request`)
  }
  for (const method of methods) {
    for (const batch of isPerturbation(method) ? batches : [Math.max(...batches)]) {
      const reqs = requests(model, batch)
      // Warm-up (builds the ONNX sessions for this batch size): one step or one gradient.
      await computeSaliency(model, reqs, { ...params(method), ...(isPerturbation(method) ? { steps: 1 } : {}) }, { maxBatch: batch })
      const t0 = performance.now()
      await computeSaliency(model, reqs, params(method), { maxBatch: batch })
      record(method, 'in process', batch, batch, performance.now() - t0)
    }
  }
  const poolRequests = requests(model, Math.max(...batches) * workers)
  model.dispose()

  if (workers >= 1) {
    const pool = await EnginePool.create(workers, { backend: backend.name, handlerModules: engineHandlerModules() })
    for (const method of methods) {
      const batch = Math.max(...batches)
      const n = batch * workers
      const reqs = poolRequests
      const warm = { ...params(method), ...(isPerturbation(method) ? { steps: 1 } : {}) }
      await pool.split('saliency', n, (r) => ({ payload: { modelDir: location, requests: reqs.slice(r.start, r.end), params: warm, maxBatch: batch } }))
      const t0 = performance.now()
      await pool.split('saliency', n, (r) => ({ payload: { modelDir: location, requests: reqs.slice(r.start, r.end), params: params(method), maxBatch: batch } }))
      record(method, `pool of ${workers}`, batch, n, performance.now() - t0)
    }
    await pool.dispose()
  }
  await rm(dir, { recursive: true, force: true })

  console.log(`\nRuntime: ${runtime === 'tfjs' ? `tfjs (${backend.name})` : 'ONNX Runtime (CPU)'} · model: ${about} · ${h}×${w}×${c}`)
  console.log(`Grid/context: ${steps} steps, ${mh}×${mw} mask (${preset} preset); IG ${igSteps} steps; SG ${sgSamples} samples\n`)
  console.log('| batch | forward ms / image | step ms / image | step ÷ forward |')
  console.log('|---:|---:|---:|---:|')
  for (const r of costRows) console.log(`| ${r.join(' | ')} |`)
  console.log('\n| method | where | batch | requests | s / request |')
  console.log('|---|---|---:|---:|---:|')
  for (const r of rows) console.log(`| ${r.join(' | ')} |`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
