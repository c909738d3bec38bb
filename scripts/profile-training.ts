/**
 * Where one training step's time goes: tf.profile over `computeGradients` (forward in training mode, loss,
 * gradients of every variable) of the benchmark U-Net at batch 16 on wasm, kernel times summed by kernel name.
 * Nested kernels count twice (our Conv2DBackpropInput/Filter run Conv2D inside), so read it as a ranking, not a sum.
 *
 *   npx tsx scripts/profile-training.ts
 */
import * as tf from '@tensorflow/tfjs'
import { initBackend } from '@main/engine/backend'
import { BENCHMARK_SPEC, buildModel } from '@main/engine/models/index'
import { computeGradients } from '@main/engine/training/step'

await initBackend({ flag: 'wasm' })
const model = buildModel(BENCHMARK_SPEC as never)
const B = 16
const images = new Float32Array(B * 64 * 64).map(() => Math.random())
const labels = new Int32Array(B * 64 * 64).map(() => Math.floor(Math.random() * 11))
for (let i = 0; i < 2; i++) { const g = computeGradients(model, images, labels, [B, 64, 64, 1], 255, B * 4096); tf.dispose(Object.values(g.grads)) }
let t = performance.now()
const g0 = computeGradients(model, images, labels, [B, 64, 64, 1], 255, B * 4096); tf.dispose(Object.values(g0.grads))
console.log('step ms', (performance.now() - t).toFixed(0))
const prof = await tf.profile(() => { const g = computeGradients(model, images, labels, [B, 64, 64, 1], 255, B * 4096); tf.dispose(Object.values(g.grads)) })
const by = new Map<string, { ms: number; n: number }>()
for (const k of prof.kernels) { const e = by.get(k.name) ?? { ms: 0, n: 0 }; e.ms += (k.kernelTimeMs as number) || 0; e.n++; by.set(k.name, e) }
const rows = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms)
let total = 0; for (const [, e] of rows) total += e.ms
console.log('total kernel ms', total.toFixed(0), 'kernels', prof.kernels.length)
for (const [n, e] of rows.slice(0, 30)) console.log(n.padEnd(28), e.ms.toFixed(1).padStart(8), String(e.n).padStart(5))
