/**
 * Seeded randomness. Every image draws from its own stream, keyed by (split seed, image index), so any image can
 * be regenerated alone and the result does not depend on generation order or concurrency.
 */

/** murmur3's 32-bit finaliser: a cheap bijective mix with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Hashes a sequence of integers into one 32-bit seed; order matters, so (a, b) and (b, a) differ. */
export function hashSeeds(...values: number[]): number {
  let h = 0x9e3779b9
  for (const v of values) h = fmix32((h ^ (v >>> 0)) + 0x9e3779b9 + (h << 6) + (h >>> 2))
  return h >>> 0
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
}

/** mulberry32: small, fast, and good enough for sampling textures and crops. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { next, int: (n) => Math.floor(next() * n) }
}

/** Fisher–Yates, in place. */
export function shuffleInPlace<T>(items: { [i: number]: T; length: number }, rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const t = items[i]
    items[i] = items[j]
    items[j] = t
  }
}

/** Uniform pick from the ids in [0, count) that are not excluded. */
export function pickExcluding(rng: Rng, count: number, excluded: readonly number[]): number {
  const allowed: number[] = []
  for (let i = 0; i < count; i++) if (!excluded.includes(i)) allowed.push(i)
  return allowed[rng.int(allowed.length)]
}
