import * as tf from '@tensorflow/tfjs'
import { initBackend } from '@main/engine/backend'

/** Tests run tfjs on the plain CPU backend: exact enough to compare against, and wasm lacks training kernels yet. */
export async function useCpuBackend(): Promise<void> {
  process.env.CTXLENS_BACKEND = 'cpu'
  await initBackend()
}

/** A tiny fully convolutional softmax segmenter: [h, w, c] → [h, w, k]. */
export function tinySegmenter(opts: { h?: number; w?: number; c?: number; k?: number; batchNorm?: boolean; seed?: number } = {}): tf.LayersModel {
  const { h = 8, w = 8, c = 1, k = 3, batchNorm = false, seed = 1 } = opts
  const input = tf.input({ shape: [h, w, c] })
  let x = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed }) })
    .apply(input) as tf.SymbolicTensor
  if (batchNorm) x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor
  x = tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor
  const out = tf.layers
    .conv2d({ filters: k, kernelSize: 1, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) })
    .apply(x) as tf.SymbolicTensor
  return tf.model({ inputs: input, outputs: out })
}

/** Deterministic pseudo-random values in [0, 1). */
export function randomArray(n: number, seed: number): Float32Array {
  let a = seed >>> 0
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a ^ (a >>> 15), 2246822507) + 0x6d2b79f5) >>> 0
    a = Math.imul(a ^ (a >>> 13), 3266489909) >>> 0
    out[i] = ((a ^ (a >>> 16)) >>> 0) / 4294967296
  }
  return out
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}
