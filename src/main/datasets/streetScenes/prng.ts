/**
 * Seeded randomness for the street scenes. Each image draws from its own stream keyed by (seed, split, index), so
 * any image can be regenerated alone and results never depend on generation order.
 */
import { fmix32, hashInts as hashValues, mulberry32 } from '../../prng'

export { fmix32 }

/** Hashes a sequence of integers into one 32-bit value; order matters. */
export function hashInts(...values: number[]): number {
  return hashValues(0x2545f491, values)
}

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

/** mulberry32: small, fast, and good enough for layout and colour sampling. */
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

/** Uniform in [0, 1) from integer coordinates: per-pixel grain that needs no state. */
export function hash01(seed: number, x: number, y: number): number {
  return fmix32((Math.imul(x | 0, 0x27d4eb2d) ^ Math.imul(y | 0, 0x165667b1) ^ seed) >>> 0) / 4294967296
}

const smooth = (t: number): number => t * t * (3 - 2 * t)

/** Value noise in [0, 1): smooth blotches of about one unit across; scale the coordinates to size them. */
export function valueNoise(seed: number, x: number, y: number): number {
  const x0 = Math.floor(x)
  const y0 = Math.floor(y)
  const fx = smooth(x - x0)
  const fy = smooth(y - y0)
  const a = hash01(seed, x0, y0)
  const b = hash01(seed, x0 + 1, y0)
  const c = hash01(seed, x0, y0 + 1)
  const d = hash01(seed, x0 + 1, y0 + 1)
  return a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy
}

/** Two octaves of value noise: blotches with some detail, still in [0, 1). */
export function fbm(seed: number, x: number, y: number): number {
  return 0.65 * valueNoise(seed, x, y) + 0.35 * valueNoise(seed ^ 0x5bd1e995, x * 2.7 + 13.1, y * 2.7 + 7.7)
}
