/** Value noise for the street scenes' surfaces (blotches on asphalt, walls, foliage and clouds), from a seed. */
import { hash01 } from '../../prng'

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
