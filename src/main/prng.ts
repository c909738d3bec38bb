/**
 * Seeded pseudo-random streams, the same on every platform and backend: everything Context Lens generates or
 * samples (datasets, noise baselines, SmoothGrad noise, shuffles, bootstrap resamples, re-initialised weights) is
 * reproducible from a stored seed. tfjs's own random ops are not used for this: they treat seed 0 as "no seed".
 *
 * Every sequence here is frozen: generated datasets, the committed benchmark models and stored explanations were
 * made with them, and test/prng.test.ts holds what each one produced before this module gathered them. A better
 * generator is a new function under a new name, never an edit to one of these.
 */

/** mulberry32: 32-bit state, uniform 32-bit outputs; small, fast and good enough for sampling. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

/** A mulberry32 stream as uniform numbers in [0, 1). */
export function uniform01(seed: number): () => number {
  const next = mulberry32(seed)
  return () => next() / 4294967296
}

/** A mulberry32 stream with the draws the generators need; each method takes the next value(s) of the one stream. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  /** Uniform in [a, b). */
  range(a: number, b: number): number
  /** True with probability p. */
  chance(p: number): boolean
  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T
  /** Approximately standard normal (sum of four uniforms, rescaled): enough for colour jitter. */
  normal(): number
  /** A fresh 32-bit value, e.g. to seed a noise field. */
  u32(): number
}

export function createRng(seed: number): Rng {
  const u32 = mulberry32(seed)
  const next = (): number => u32() / 4294967296
  return {
    next,
    u32,
    int: (n) => Math.floor(next() * n),
    range: (lo, hi) => lo + (hi - lo) * next(),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)],
    normal: () => (next() + next() + next() + next() - 2) * 1.7320508
  }
}

/**
 * Fisher–Yates in place, drawing j = ⌊random()·(i+1)⌋ for i from the last index down to 1. That exact sequence of
 * draws is part of every seeded result that shuffles (batch orders, audit samples, dataset composition).
 */
export function shuffleInPlace<T>(items: { [i: number]: T; length: number }, random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = items[i]
    items[i] = items[j]
    items[j] = t
  }
}

/**
 * Box–Muller normals (standard deviation `sigma`) from a uniform stream: each pair of uniforms (radius first, then
 * angle) gives sigma·r·cos θ and then sigma·r·sin θ. `sigma` is applied before the cosine and sine, in that order,
 * because the streams stored with SmoothGrad results were computed that way.
 */
export function normalStream(random: () => number, sigma = 1): () => number {
  let spare: number | null = null
  return () => {
    if (spare !== null) {
      const s = spare
      spare = null
      return s
    }
    const r = Math.sqrt(-2 * Math.log(1 - random()))
    const theta = 2 * Math.PI * random()
    spare = sigma * r * Math.sin(theta)
    return sigma * r * Math.cos(theta)
  }
}

// Seed derivations. Each is its own hash family, so a seed reused by two of them gives unrelated streams.

/** murmur3's 32-bit finaliser: a cheap bijective mix with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * Hashes a sequence of integers into one 32-bit seed; order matters, so (a, b) and (b, a) differ. `family`
 * separates the generators (HASH_FAMILY), so (seed, split, index) of one dataset never collides with another's.
 */
export function hashInts(family: number, values: readonly number[]): number {
  let h = family >>> 0
  for (const v of values) h = fmix32((h ^ (v >>> 0)) + 0x9e3779b9 + (h << 6) + (h >>> 2))
  return h >>> 0
}

/** The hashInts families in use, one per generator. */
export const HASH_FAMILY = {
  textureMnist: 0x9e3779b9,
  streetScenes: 0x2545f491,
  /** The sanity check's re-initialised weights, keyed by (seed, weight name). */
  randomisedWeights: 0x5a17c0de
} as const

/** Uniform in [0, 1) from integer coordinates: per-pixel grain that needs no state. */
export function hash01(seed: number, x: number, y: number): number {
  return fmix32((Math.imul(x | 0, 0x27d4eb2d) ^ Math.imul(y | 0, 0x165667b1) ^ seed) >>> 0) / 4294967296
}

/** splitmix32-style mixing, so nearby seeds (seed, seed + 1, …) give unrelated streams. */
function splitmix32(seed: number): number {
  let z = (seed + 0x9e3779b9) | 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

/**
 * Stream `stream` of a user-visible seed, uniform in [0, 1): the saliency methods' noise baselines, SmoothGrad
 * samples and the faithfulness check's random orders, where a user picks the seed and each sample needs its own.
 */
export function uniformStream(seed: number, stream = 0): () => number {
  return uniform01(splitmix32(splitmix32(seed) ^ Math.imul(stream + 1, 0x27d4eb2f)))
}

/** n uniforms in [lo, hi) from uniformStream(seed, stream), rounded to float32. */
export function seededUniform(n: number, lo: number, hi: number, seed: number, stream = 0): Float32Array {
  const u = uniformStream(seed, stream)
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * u())
}

/** n Box–Muller normals with standard deviation sigma from uniformStream(seed, stream), rounded to float32. */
export function seededNormal(n: number, sigma: number, seed: number, stream = 0): Float32Array {
  const z = normalStream(uniformStream(seed, stream), sigma)
  return Float32Array.from({ length: n }, z)
}

/** Mixes seed and epoch so each epoch of training has its own order, never depending on earlier epochs'. */
export function epochSeed(seed: number, epoch: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0
  h = Math.imul(h ^ (epoch + 0x85ebca6b), 0xc2b2ae35) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}
