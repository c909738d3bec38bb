/**
 * Forward-pass speed of a committed ONNX export on ONNX Runtime (CPU, 1 and 2 intra-op threads) against the
 * same tfjs model on the wasm backend, at batch 1 and 16. Runs are interleaved round by round so the runtimes
 * share whatever load the machine has; prints min and median wall ms per forward pass and per image, and the
 * process CPU ms per image (all threads; on a loaded machine the wall time mostly measures the wait for a core).
 *
 *   npx tsx scripts/bench-onnx-forward.ts [--model resources/benchmark-models/strong-d2-t3] [--rounds 7]
 */
import { readFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm'
import * as ort from 'onnxruntime-node'
import { initBackend } from '../src/main/engine/backend'
import { loadModel } from '../src/main/engine/modelFiles'
import { modelStats } from '../src/main/engine/models'
import { uniform01 } from '../src/main/prng'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}
const dir = arg('model', 'resources/benchmark-models/strong-d2-t3')
const rounds = Number(arg('rounds', '7'))

async function main(): Promise<void> {
  await initBackend({ flag: 'wasm' })
  const loaded = await loadModel(dir)
  const model = loaded.model as tf.LayersModel
  const bytes = new Uint8Array(await readFile(join(dir, 'model.onnx')))
  const sessions = new Map<string, ort.InferenceSession>()
  for (const threads of [1, 2]) {
    sessions.set(`ORT ${threads} thread${threads > 1 ? 's' : ''}`, await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1 }))
  }
  // ORT's pool threads spin while waiting for work, which costs CPU that other work on a shared machine needs.
  sessions.set(
    'ORT 2 threads, no spinning',
    await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, interOpNumThreads: 1, extra: { session: { intra_op: { allow_spinning: '0' } } } })
  )
  const [h, w, c] = model.inputs[0].shape.slice(1) as number[]
  const stats = modelStats(model)
  console.log(`${dir}: ${stats.params.toLocaleString('en')} parameters, ${(stats.macs / 1e6).toFixed(1)} M MACs per image`)
  console.log(`tfjs wasm threads: ${getThreadsCount()}`)
  console.log(`load average at start: ${loadavg().map((v) => v.toFixed(1)).join(' ')}`)
  console.log('| runtime | batch | wall ms per forward (min / median) | wall ms per image (min / median) | CPU ms per image (median) |')
  console.log('|---|---|---|---|---|')
  for (const batch of [1, 16]) {
    const r = uniform01(batch)
    const input = Float32Array.from({ length: batch * h * w * c }, () => r())
    const runs: Record<string, () => Promise<void>> = {}
    for (const [name, s] of sessions) {
      const feed = { [s.inputNames[0]]: new ort.Tensor('float32', input, [batch, h, w, c]) }
      runs[name] = async () => {
        await s.run(feed)
      }
    }
    const x = tf.tensor4d(input, [batch, h, w, c])
    runs['tfjs wasm'] = async () => {
      // apply, as the engine's predict does (LayersModel.predict adds batching and copies).
      const y = model.apply(x, { training: false }) as tf.Tensor
      await y.data()
      y.dispose()
    }
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]))
    const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]))
    for (const fn of Object.values(runs)) await fn()
    for (let i = 0; i < rounds; i++) {
      for (const [name, fn] of Object.entries(runs)) {
        const c = process.cpuUsage()
        const t = performance.now()
        await fn()
        times[name].push(performance.now() - t)
        const used = process.cpuUsage(c)
        cpu[name].push((used.user + used.system) / 1000)
      }
    }
    x.dispose()
    for (const [name, ts] of Object.entries(times)) {
      ts.sort((a, b) => a - b)
      const [min, med] = [ts[0], ts[Math.floor(ts.length / 2)]]
      const cs = cpu[name].sort((a, b) => a - b)
      const cpuMed = cs[Math.floor(cs.length / 2)]
      console.log(`| ${name} | ${batch} | ${min.toFixed(1)} / ${med.toFixed(1)} | ${(min / batch).toFixed(1)} / ${(med / batch).toFixed(1)} | ${(cpuMed / batch).toFixed(1)} |`)
    }
  }
  console.log(`load average at end: ${loadavg().map((v) => v.toFixed(1)).join(' ')}`)
  for (const s of sessions.values()) await s.release()
  loaded.dispose()
}

void main()
