/**
 * Seeded random numbers in plain JS. Not tf.random*: tfjs treats a seed of 0 as "no seed" (fresh Math.random),
 * and results must be reproducible from the seed stored with them on every backend.
 */
import { uniform01 } from '../prng'

/** splitmix32-style mixing, so nearby seeds (seed, seed + 1, …) give unrelated streams. */
function mix(seed: number): number {
  let z = (seed + 0x9e3779b9) | 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

/** mulberry32: uniform in [0, 1). */
export function uniformStream(seed: number, stream = 0): () => number {
  return uniform01(mix(mix(seed) ^ Math.imul(stream + 1, 0x27d4eb2f)))
}

export function seededUniform(n: number, lo: number, hi: number, seed: number, stream = 0): Float32Array {
  const u = uniformStream(seed, stream)
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * u())
}

/** Box–Muller normals with standard deviation sigma. */
export function seededNormal(n: number, sigma: number, seed: number, stream = 0): Float32Array {
  const u = uniformStream(seed, stream)
  const out = new Float32Array(n)
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u()))
    const theta = 2 * Math.PI * u()
    out[i] = sigma * r * Math.cos(theta)
    if (i + 1 < n) out[i + 1] = sigma * r * Math.sin(theta)
  }
  return out
}
