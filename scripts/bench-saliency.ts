/**
 * `npm run bench:saliency`: seconds per saliency request on the benchmark U-Net (zoo 'unet-vgg', 64×64×1,
 * 11 classes, 16-32-64-128-128 with batch norm; random but fixed weights), through the same path the app uses
 * (model folder → openSegmentationModel → computeSaliency), in-process and over the engine's worker pool.
 *
 *   npm run bench:saliency -- [--steps 100] [--batches 1,16] [--methods context,vg,ig,sg] [--ig-steps 50]
 *                             [--sg-samples 50] [--workers 2] [--backend wasm] [--levels 4]
 *
 * Per-request time = wall time of the whole run / number of requests. With --steps below 100 the context rows
 * are also scaled to 100 steps (time per step is constant: every step is one forward + backward of the batch).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { saliencyParams, type SaliencyMethod } from '../src/common/saliency'
import { initBackend } from '../src/main/engine/backend'
import { saveModel } from '../src/main/engine/modelFiles'
import { BENCHMARK_SPEC, buildModel, modelStats } from '../src/main/engine/models'
import { EnginePool } from '../src/main/engine/pool/pool'
import { openSegmentationModel } from '../src/main/engine/openModel'
import { computeSaliency, type SaliencyRequest } from '../src/main/saliency'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}
const steps = Number(arg('steps', '100'))
const batches = arg('batches', '1,16').split(',').map(Number)
const methods = arg('methods', 'context,vg,ig,sg').split(',') as SaliencyMethod[]
const igSteps = Number(arg('ig-steps', '50'))
const sgSamples = Number(arg('sg-samples', '50'))
const workers = Number(arg('workers', '2'))
const backendFlag = arg('backend', 'auto')
// --levels 2 gives the 2-pooling U-Net (~118k parameters) that the PyTorch reference in design.md timed.
const spec = { ...BENCHMARK_SPEC, levels: Number(arg('levels', String(BENCHMARK_SPEC.levels ?? 4))) }

function requests(n: number): SaliencyRequest[] {
  // A 64×64 image with a bright blob as the request, different per request so nothing is cached by accident.
  return Array.from({ length: n }, (_, i) => {
    const data = new Float32Array(64 * 64)
    const request = new Uint8Array(64 * 64)
    for (let p = 0; p < data.length; p++) data[p] = ((p * 7919 + i * 104729) % 1000) / 1000
    for (let y = 20; y < 44; y++) for (let x = 16 + (i % 8); x < 40 + (i % 8); x++) request[y * 64 + x] = 1
    return { id: `r${i}`, image: { data, height: 64, width: 64, channels: 1 }, request, classId: i % 11 }
  })
}

function params(method: SaliencyMethod) {
  if (method === 'grid' || method === 'context') return saliencyParams(method, 'synthetic', { steps })
  if (method === 'ig') return saliencyParams(method, 'synthetic', { steps: igSteps })
  if (method === 'sg') return saliencyParams(method, 'synthetic', { samples: sgSamples })
  return saliencyParams(method, 'synthetic')
}

const rows: string[][] = []
const record = (method: string, where: string, batch: number, n: number, ms: number) => {
  const per = ms / n / 1000
  const scaled = method === 'context' || method === 'grid' ? `${((per * 100) / steps).toFixed(2)}` : '-'
  rows.push([method, where, String(batch), String(n), per.toFixed(3), steps === 100 ? '-' : scaled])
  console.error(`${method} ${where} batch ${batch}: ${per.toFixed(3)} s/request`)
}

async function main(): Promise<void> {
  const backend = await initBackend({ flag: backendFlag })
  const dir = await mkdtemp(join(tmpdir(), 'ctxlens-bench-'))
  const model = buildModel(spec)
  const stats = modelStats(model)
  await saveModel(model, dir, {
    name: 'benchmark-unet',
    classes: Array.from({ length: 11 }, (_, id) => ({ id, name: id === 10 ? 'background' : String(id), color: [id * 20, 0, 0] as [number, number, number] })),
    ignoreId: null,
    input: { height: 64, width: 64, channels: 1 },
    normalisation: { kind: 'range', min: 0, max: 1 },
    architecture: 'unet-vgg',
    spec
  })
  model.dispose()
  const prepared = await openSegmentationModel(dir)
  console.error(`backend ${backend.name}; model ${stats.params} parameters, ${(stats.macs / 1e6).toFixed(1)} M MACs per image`)

  for (const method of methods) {
    for (const batch of method === 'context' || method === 'grid' ? batches : [Math.max(...batches)]) {
      const reqs = requests(batch)
      // One warm-up request so kernel setup is not billed to the first row.
      await computeSaliency(prepared, reqs.slice(0, 1), { ...params(method), ...(method === 'context' || method === 'grid' ? { steps: 1 } : {}) })
      const t0 = performance.now()
      await computeSaliency(prepared, reqs, params(method), { maxBatch: batch })
      record(method, 'in-process', batch, batch, performance.now() - t0)
    }
  }

  if (workers > 1) {
    const pool = await EnginePool.create(workers, { backend: backend.name })
    for (const method of methods) {
      const batch = Math.max(...batches)
      const n = batch * workers
      const reqs = requests(n)
      await pool.split('saliency', workers, (r) => ({ payload: { modelDir: dir, requests: reqs.slice(r.index, r.index + 1), params: { ...params(method), ...(method === 'context' || method === 'grid' ? { steps: 1 } : {}) } } }))
      const t0 = performance.now()
      await pool.split('saliency', n, (r) => ({ payload: { modelDir: dir, requests: reqs.slice(r.start, r.end), params: params(method), maxBatch: batch } }))
      record(method, `pool of ${workers}`, batch, n, performance.now() - t0)
    }
    await pool.dispose()
  }
  prepared.dispose()
  await rm(dir, { recursive: true, force: true })

  console.log(`\nBackend: ${backend.name} · model: U-Net with ${spec.levels} poolings, ${stats.params.toLocaleString('en')} parameters, ${(stats.macs / 1e6).toFixed(1)} M MACs per 64×64 image`)
  console.log(`Context/grid: ${steps} steps, 4×4 mask; IG ${igSteps} steps; SG ${sgSamples} samples\n`)
  console.log('| method | where | batch | requests | s / request | s / request at 100 steps |')
  console.log('|---|---|---:|---:|---:|---:|')
  for (const r of rows) console.log(`| ${r.join(' | ')} |`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
