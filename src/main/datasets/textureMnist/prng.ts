/**
 * Seeded randomness. Every image draws from its own stream, keyed by (split seed, image index), so any image can
 * be regenerated alone and the result does not depend on generation order or concurrency.
 */
import { hashInts, uniform01 } from '../../prng'

/** Hashes a sequence of integers into one 32-bit seed; order matters, so (a, b) and (b, a) differ. */
export function hashSeeds(...values: number[]): number {
  return hashInts(0x9e3779b9, values)
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
}

/** A mulberry32 stream: small, fast, and good enough for sampling textures and crops. */
export function mulberry32(seed: number): Rng {
  const next = uniform01(seed)
  return { next, int: (n) => Math.floor(next() * n) }
}

/** Uniform pick from the ids in [0, count) that are not excluded. */
export function pickExcluding(rng: Rng, count: number, excluded: readonly number[]): number {
  const allowed: number[] = []
  for (let i = 0; i < count; i++) if (!excluded.includes(i)) allowed.push(i)
  return allowed[rng.int(allowed.length)]
}
