import { TEXTURE_COUNT, TEXTURE_NAMES } from '@common/textureMnist'
import { createRng, type Rng } from '../../prng'

/**
 * The 25 grayscale textures, made here because the paper's texture images cannot be downloaded. Each is a
 * TEXTURE_SIZE² patch that tiles seamlessly (every pattern's period divides the size), so a crop at any offset,
 * wrapping around, is a crop of the infinitely tiled texture, as the authors tile then randomly crop.
 * Values span a per-texture range inside [0, 1]: different brightness levels make fore- and background
 * textures easier to tell apart, as with natural texture photographs.
 */
/** A power of two: the compositor wraps crop coordinates with a bit mask. */
export const TEXTURE_SIZE = 128
export const DEFAULT_TEXTURE_SEED = 20190909

const N = TEXTURE_SIZE
const TAU = 2 * Math.PI

type Pattern = (x: number, y: number) => number
interface Recipe {
  make: (rng: Rng) => Pattern
  lo: number
  hi: number
}

const mod = (a: number, n: number): number => ((a % n) + n) % n
const square = (phase: number, duty = 0.5): number => (mod(phase, 1) < duty ? 1 : 0)
const triangle = (phase: number): number => 1 - Math.abs(2 * mod(phase, 1) - 1)
/** Distance on the torus between coordinates, so shapes near an edge continue on the other side. */
const wrapDist = (a: number, b: number): number => {
  const d = Math.abs(a - b) % N
  return Math.min(d, N - d)
}

/** Square-wave stripes along the integer wave vector (kx, ky): integer so the stripes tile. */
const stripes = (kx: number, ky: number, duty = 0.5): Pattern => (x, y) => square((kx * x + ky * y) / N, duty)

/** Value noise on a periodic lattice with `spacing` pixels per cell, smoothstep-interpolated. */
function valueNoise(rng: Rng, spacing: number): Pattern {
  const cells = N / spacing
  const lattice = Float64Array.from({ length: cells * cells }, () => rng.next())
  const at = (i: number, j: number): number => lattice[mod(j, cells) * cells + mod(i, cells)]
  const smooth = (t: number): number => t * t * (3 - 2 * t)
  return (x, y) => {
    const fx = x / spacing
    const fy = y / spacing
    const i = Math.floor(fx)
    const j = Math.floor(fy)
    const tx = smooth(fx - i)
    const ty = smooth(fy - j)
    const top = at(i, j) * (1 - tx) + at(i + 1, j) * tx
    const bottom = at(i, j + 1) * (1 - tx) + at(i + 1, j + 1) * tx
    return top * (1 - ty) + bottom * ty
  }
}

function randomDots(rng: Rng, count: number): Pattern {
  const dots = Array.from({ length: count }, () => ({ x: rng.next() * N, y: rng.next() * N, r: 2 + rng.next() * 2.5 }))
  return (x, y) => {
    for (const d of dots) if (wrapDist(x, d.x) ** 2 + wrapDist(y, d.y) ** 2 <= d.r * d.r) return 1
    return 0
  }
}

const RECIPES: Record<(typeof TEXTURE_NAMES)[number], Recipe> = {
  'stripes-horizontal-fine': { make: () => stripes(0, 32), lo: 0.1, hi: 0.9 },
  'stripes-horizontal-coarse': { make: () => stripes(0, 8), lo: 0.0, hi: 0.7 },
  'stripes-vertical': { make: () => stripes(16, 0, 0.35), lo: 0.3, hi: 1.0 },
  'stripes-diagonal-45': { make: () => stripes(11, 11), lo: 0.0, hi: 1.0 },
  'stripes-diagonal-135': { make: () => stripes(11, -11, 0.3), lo: 0.15, hi: 0.85 },
  'stripes-shallow-27': { make: () => stripes(6, 12), lo: 0.2, hi: 0.95 },
  'checker-small': { make: () => (x, y) => (Math.floor(x / 4) + Math.floor(y / 4)) & 1, lo: 0.1, hi: 0.8 },
  'checker-large': { make: () => (x, y) => (Math.floor(x / 16) + Math.floor(y / 16)) & 1, lo: 0.0, hi: 1.0 },
  'checker-diamond': {
    make: () => (x, y) => (Math.floor((x + y) / 8) + Math.floor((x - y + N) / 8)) & 1,
    lo: 0.25,
    hi: 0.9
  },
  // Dark dots on a light ground: lo > hi inverts the pattern.
  'dots-small': { make: () => (x, y) => ((mod(x, 8) - 4) ** 2 + (mod(y, 8) - 4) ** 2 <= 4 ? 1 : 0), lo: 0.9, hi: 0.2 },
  'dots-large': { make: () => (x, y) => ((mod(x, 16) - 8) ** 2 + (mod(y, 16) - 8) ** 2 <= 30 ? 1 : 0), lo: 0.05, hi: 0.95 },
  'dots-random': { make: (rng) => randomDots(rng, 70), lo: 0.15, hi: 1.0 },
  'noise-fine': { make: (rng) => valueNoise(rng, 2), lo: 0.0, hi: 1.0 },
  'noise-medium': { make: (rng) => valueNoise(rng, 8), lo: 0.1, hi: 0.9 },
  'noise-coarse': { make: (rng) => valueNoise(rng, 32), lo: 0.0, hi: 1.0 },
  'gradient-ramp': { make: () => (x) => triangle(x / N), lo: 0.05, hi: 0.95 },
  'bumps-radial': {
    make: () => (x, y) => (0.5 + 0.5 * Math.cos((TAU * x) / 32)) * (0.5 + 0.5 * Math.cos((TAU * y) / 32)),
    lo: 0.2,
    hi: 1.0
  },
  waves: { make: () => (x, y) => 0.5 + 0.5 * Math.sin(TAU * (y / 16 + 0.35 * Math.sin((TAU * x) / 64))), lo: 0.0, hi: 0.85 },
  bricks: {
    make: () => (x, y) => {
      const row = Math.floor(y / 8)
      const bx = mod(x + (row & 1) * 8, 16)
      return mod(y, 8) < 2 || bx < 2 ? 0 : 1
    },
    lo: 0.1,
    hi: 0.75
  },
  'grid-lines': { make: () => (x, y) => (mod(x, 16) < 2 || mod(y, 16) < 2 ? 0 : 1), lo: 0.0, hi: 0.9 },
  zigzag: { make: () => (x, y) => square(y / 16 + 0.6 * triangle(x / 16)), lo: 0.05, hi: 0.85 },
  rings: {
    make: () => (x, y) => {
      const d = Math.hypot(wrapDist(mod(x, 64), 32), wrapDist(mod(y, 64), 32))
      return square(d / 7)
    },
    lo: 0.2,
    hi: 1.0
  },
  crosshatch: {
    make: () => (x, y) => (square((8 * x + 8 * y) / N, 0.15) || square((8 * x - 8 * y) / N, 0.15) ? 0 : 1),
    lo: 0.0,
    hi: 1.0
  },
  plaid: {
    make: () => (x, y) => 0.5 * (0.5 + 0.5 * Math.cos((TAU * 4 * x) / N)) + 0.5 * (0.5 + 0.5 * Math.cos((TAU * 10 * y) / N)),
    lo: 0.0,
    hi: 0.8
  },
  'basket-weave': {
    make: () => (x, y) => {
      const horizontal = ((Math.floor(x / 16) + Math.floor(y / 16)) & 1) === 0
      return square((horizontal ? y : x) / 4)
    },
    lo: 0.15,
    hi: 0.95
  }
}

/** The 25 textures, each TEXTURE_SIZE² row-major in [0, 1], deterministic for a seed. */
export function makeTextures(seed: number = DEFAULT_TEXTURE_SEED): Float32Array[] {
  return TEXTURE_NAMES.map((name, id) => {
    const recipe = RECIPES[name]
    const pattern = recipe.make(createRng(seed + id * 0x9e3779b1))
    const raw = new Float32Array(N * N)
    let min = Infinity
    let max = -Infinity
    for (let y = 0; y < N; y++) {
      for (let x = 0; x < N; x++) {
        const v = pattern(x, y)
        raw[y * N + x] = v
        if (v < min) min = v
        if (v > max) max = v
      }
    }
    // Stretch to the recipe's range so every texture uses its full contrast whatever the pattern's own range.
    const scale = max > min ? 1 / (max - min) : 0
    for (let i = 0; i < raw.length; i++) raw[i] = recipe.lo + (recipe.hi - recipe.lo) * (raw[i] - min) * scale
    return raw
  })
}

let cached: Float32Array[] | null = null
/** The default texture set, made once per process. */
export function defaultTextures(): Float32Array[] {
  cached ??= makeTextures()
  if (cached.length !== TEXTURE_COUNT) throw new Error('texture recipes out of step with TEXTURE_NAMES')
  return cached
}
