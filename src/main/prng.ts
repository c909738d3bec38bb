/**
 * Seeded pseudo-random streams, the same on every platform and backend: everything Context Lens generates or
 * samples (datasets, noise baselines, shuffles, bootstrap resamples) is reproducible from a stored seed. tfjs's own
 * random ops are not used for this: they treat seed 0 as "no seed".
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
 * Hashes a sequence of integers into one 32-bit seed; order matters. `initial` separates the hash families of
 * different generators, so (seed, split, index) of one dataset never collides with another's.
 */
export function hashInts(initial: number, values: readonly number[]): number {
  let h = initial >>> 0
  for (const v of values) h = fmix32((h ^ (v >>> 0)) + 0x9e3779b9 + (h << 6) + (h >>> 2))
  return h >>> 0
}
