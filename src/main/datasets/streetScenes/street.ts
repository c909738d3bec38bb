import { STREET_CLASS } from '@common/streetScenes'
import type { Canvas, Material } from './canvas'
import { SS } from './canvas'
import { hash01, type Rng } from '../../prng'
import { fbm, valueNoise } from './noise'

/**
 * The static part of a scene: a straight street seen from the driver's seat, all of it drawn in one-point
 * perspective around a vanishing point (vx, horizonY). Ground points are addressed by their lateral position
 * measured on the bottom image row ("lateral") and their depth z = 1 / t, t = 1 at the bottom row and 0 at the
 * horizon; at depth z every length shrinks by 1/z, so objects placed here are sized consistently with the street.
 */

export type Surface = 'road' | 'sidewalk'
type Rgb = [number, number, number]

interface Block {
  z0: number
  z1: number
  /** Top of the block above the ground, in bottom-row pixels. */
  heightB: number
  vegetation: boolean
  color: Rgb
  /** Floor height, window width share, window height share, window column spacing in z, ground floor height. */
  floorH: number
  winW: number
  winH: number
  colDz: number
  groundH: number
  window: Rgb
}

interface Side {
  /** Lateral position of the facade line (on the bottom row). */
  facade: number
  blocks: Block[]
  light: number
}

export interface Street {
  width: number
  height: number
  horizonY: number
  vanishingX: number
  roadL: number
  roadR: number
  left: Side
  right: Side
  /** The street ends at this depth in a row of buildings or trees across it (the backdrop). */
  zMax: number
  /** Image row where the backdrop meets the ground; the ground beyond it is hidden. */
  wallY: number
  backdropH: number
  backdropBlockW: number
  backdropVeg: boolean
  bikeLane: { side: 'left' | 'right'; inner: number; outer: number } | null
  /** Figure height per pixel below the horizon. */
  figureScale: number
  sky: { top: Rgb; horizon: Rgb; clouds: number }
  asphalt: Rgb
  paving: Rgb
  tileW: number
  seed: number
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v)

function jitter(rng: Rng, c: Rgb, amount: number): Rgb {
  const f = 1 + rng.normal() * amount
  return [clamp01(c[0] * f + rng.normal() * amount * 0.3), clamp01(c[1] * f + rng.normal() * amount * 0.3), clamp01(c[2] * f + rng.normal() * amount * 0.3)]
}

const FACADES: Rgb[] = [
  [0.78, 0.7, 0.56], // sandstone
  [0.6, 0.34, 0.27], // brick
  [0.55, 0.55, 0.55], // concrete
  [0.85, 0.84, 0.8], // white plaster
  [0.45, 0.38, 0.33], // brown
  [0.8, 0.72, 0.62], // beige
  [0.7, 0.6, 0.45], // ochre
  [0.62, 0.66, 0.7], // blue-grey
  [0.74, 0.56, 0.5] // pink plaster
]

/**
 * `camH` is the camera height in bottom-row pixels (the distance from the bottom row to the horizon). Blocks are
 * at least that tall: on flat ground, anything lower than the camera is seen against ground or facades behind it,
 * so its top never shows sky below the horizon.
 */
function makeBlocks(rng: Rng, zMax: number, baseH: number, camH: number): Block[] {
  const blocks: Block[] = []
  // The first block reaches the camera, so columns beside the image's near edge are facade too.
  let z = 0
  while (z < zMax) {
    const len = z === 0 ? rng.range(0.6, 1.6) : rng.range(0.25, 1.1)
    const vegetation = rng.chance(0.2)
    blocks.push({
      z0: z,
      z1: z + len,
      heightB: camH * rng.range(1.25, 3),
      vegetation,
      color: vegetation ? jitter(rng, [0.25, 0.42, 0.16], 0.15) : jitter(rng, rng.pick(FACADES), 0.08),
      floorH: baseH * rng.range(1.3, 1.9),
      winW: rng.range(0.35, 0.65),
      winH: rng.range(0.35, 0.6),
      colDz: rng.range(0.05, 0.16),
      groundH: baseH * rng.range(1.2, 2),
      window: rng.chance(0.5) ? jitter(rng, [0.2, 0.24, 0.3], 0.2) : jitter(rng, [0.35, 0.42, 0.5], 0.2)
    })
    z += len
  }
  return blocks
}

export function buildStreet(rng: Rng, width: number, height: number, bikeLaneRate: number): Street {
  const W = width
  const H = height
  const horizonY = H * rng.range(0.3, 0.4)
  const vanishingX = W * rng.range(0.38, 0.62)
  const roadL = vanishingX - W * rng.range(0.26, 0.48)
  const roadR = vanishingX + W * rng.range(0.26, 0.48)
  // Persons at the bottom row are about 24 px tall at H = 64, the largest the demo model has to handle.
  const figureBottom = (H / 64) * rng.range(22, 26)
  const figureScale = figureBottom / (H - horizonY)
  const zMax = rng.range(5, 9)
  const left: Side = { facade: roadL - W * rng.range(0.1, 0.32), blocks: makeBlocks(rng, zMax, figureBottom, H - horizonY), light: rng.range(0.65, 1.1) }
  const right: Side = { facade: roadR + W * rng.range(0.1, 0.32), blocks: makeBlocks(rng, zMax, figureBottom, H - horizonY), light: rng.range(0.65, 1.1) }
  let bikeLane: Street['bikeLane'] = null
  if (rng.chance(bikeLaneRate)) {
    const side = rng.chance(0.5) ? 'left' : 'right'
    const laneW = figureBottom * rng.range(0.8, 1.1)
    bikeLane = side === 'left' ? { side, inner: roadL + laneW, outer: roadL } : { side, inner: roadR - laneW, outer: roadR }
  }
  const skyKind = rng.next()
  const sky =
    skyKind < 0.55
      ? { top: jitter(rng, [0.33, 0.55, 0.85], 0.08), horizon: jitter(rng, [0.72, 0.82, 0.92], 0.05), clouds: rng.range(0, 0.5) }
      : skyKind < 0.9
        ? { top: jitter(rng, [0.68, 0.7, 0.74], 0.08), horizon: jitter(rng, [0.85, 0.86, 0.88], 0.04), clouds: rng.range(0.2, 0.6) }
        : { top: jitter(rng, [0.45, 0.5, 0.7], 0.08), horizon: jitter(rng, [0.95, 0.75, 0.55], 0.06), clouds: rng.range(0, 0.3) }
  const g = rng.range(0.3, 0.5)
  return {
    width,
    height,
    horizonY,
    vanishingX,
    roadL,
    roadR,
    left,
    right,
    zMax,
    wallY: horizonY + (H - horizonY) / zMax,
    backdropH: ((H - horizonY) * rng.range(1.2, 3.5)) / zMax,
    backdropBlockW: (H / 64) * rng.range(3, 9),
    backdropVeg: rng.chance(0.4),
    bikeLane,
    figureScale,
    sky,
    asphalt: jitter(rng, [g, g, g * 1.03], 0.05),
    paving: rng.chance(0.6) ? jitter(rng, [0.66, 0.64, 0.6], 0.06) : jitter(rng, [0.62, 0.5, 0.46], 0.06),
    tileW: figureBottom * rng.range(0.25, 0.5),
    seed: rng.u32()
  }
}

/** Depth parameter of an image row: 1 at the bottom row, 0 at the horizon. */
export function rowT(s: Street, y: number): number {
  return (y - s.horizonY) / (s.height - s.horizonY)
}

/** Lateral (bottom-row) position of the ground point seen at (x, y); only meaningful below the horizon. */
export function lateralAt(s: Street, x: number, y: number): number {
  return s.vanishingX + (x - s.vanishingX) / rowT(s, y)
}

/** Image x of the ground point at `lateral` on row y. */
export function xAtLateral(s: Street, lateral: number, y: number): number {
  return s.vanishingX + (lateral - s.vanishingX) * rowT(s, y)
}

/** The ground under (x, y), or null above the horizon or beyond the sidewalks (in front of a facade). */
export function surfaceAt(s: Street, x: number, y: number): Surface | null {
  if (y < s.wallY + 0.5 * (s.height / 64)) return null
  const lat = lateralAt(s, x, y)
  if (lat >= s.roadL && lat <= s.roadR) return 'road'
  if (lat >= s.left.facade && lat <= s.right.facade) return 'sidewalk'
  return null
}

/** Height in pixels of a standing person whose feet are on row y; rows below the image count as the last one. */
export function figureHeightAt(s: Street, y: number): number {
  return s.figureScale * (Math.min(y, s.height) - s.horizonY)
}

/** Paints sky, facades, backdrop and ground into every sample. */
export function paintBackground(c: Canvas, s: Street): void {
  const { horizonY: yh, vanishingX: vx, height: H } = s
  const seed = s.seed
  const m: Material = { r: 0, g: 0, b: 0, grain: 0.03 }
  const skyM: Material = { r: 0, g: 0, b: 0, grain: 0.01 }
  const laneTint: Rgb = [0.55, 0.32, 0.3]
  const unit = H / 64
  for (let ys = 0; ys < c.sh; ys++) {
    const y = (ys + 0.5) / SS
    const t = (y - yh) / (H - yh)
    for (let xs = 0; xs < c.sw; xs++) {
      const x = (xs + 0.5) / SS
      const i = ys * c.sw + xs
      const side = x < vx ? s.left : s.right
      const tf = (x - vx) / (side.facade - vx)
      const yBase = yh + tf * (H - yh)
      if (y >= s.wallY && y >= yBase) {
        // Ground.
        const lat = vx + (x - vx) / t
        const z = 1 / t
        if (lat >= s.roadL && lat <= s.roadR) {
          let r = s.asphalt[0]
          let g = s.asphalt[1]
          let b = s.asphalt[2]
          const mid = (s.roadL + s.roadR) / 2
          const markW = 0.9 * (H / 64)
          const lane = s.bikeLane
          let paint = false
          if (Math.abs(lat - mid) < markW && (z * 1.6) % 1 < 0.5) paint = true
          if (lane && Math.abs(lat - lane.inner) < markW * 0.8) paint = true
          if (lane && (lat - lane.inner) * (lat - lane.outer) < 0) {
            r = r * 0.4 + laneTint[0] * 0.6
            g = g * 0.4 + laneTint[1] * 0.6
            b = b * 0.4 + laneTint[2] * 0.6
          }
          if (paint) {
            r = g = 0.85
            b = 0.82
          }
          const wear = 1 + 0.18 * (valueNoise(seed ^ 11, lat / 6, z * 3) - 0.5)
          m.r = r * wear
          m.g = g * wear
          m.b = b * wear
          m.grain = 0.05
          c.put(i, x, y, m, STREET_CLASS.road, 0)
        } else {
          const curbLat = lat < vx ? s.roadL - lat : lat - s.roadR
          let r = s.paving[0]
          let g = s.paving[1]
          let b = s.paving[2]
          if (curbLat < 1.2 * (H / 64)) {
            r = g = b = 0.78
          } else {
            const u = (lat / s.tileW) % 1
            const v = (z * 9) % 1
            if (u < 0.08 || v < 0.08 / z) {
              r *= 0.8
              g *= 0.8
              b *= 0.8
            }
          }
          const wear = 1 + 0.15 * (valueNoise(seed ^ 23, lat / 5, z * 4) - 0.5)
          m.r = r * wear
          m.g = g * wear
          m.b = b * wear
          m.grain = 0.05
          c.put(i, x, y, m, STREET_CLASS.sidewalk, 0)
        }
        continue
      }
      const z = 1 / tf
      let painted = false
      if (z < s.zMax) {
        let blk: Block | undefined
        for (const b of side.blocks) if (z >= b.z0 && z < b.z1) blk = b
        if (blk) {
          const v = (yBase - y) / tf
          let top = blk.heightB
          if (blk.vegetation) top = Math.max(H - yh + unit, top * (0.75 + 0.5 * valueNoise(seed ^ 31, z * 6, 0)))
          if (v <= top) {
            painted = true
            if (blk.vegetation) {
              const n = fbm(seed ^ 37, x / 1.6, y / 1.6)
              const f = side.light * (0.6 + 0.8 * n)
              m.r = blk.color[0] * f
              m.g = blk.color[1] * f
              m.b = blk.color[2] * f
              m.grain = 0.06
              c.put(i, x, y, m, STREET_CLASS.vegetation, 0)
            } else {
              let r = blk.color[0]
              let g = blk.color[1]
              let b = blk.color[2]
              const fl = (v / blk.floorH) % 1
              const col = ((z - blk.z0) / blk.colDz) % 1
              const isWindow = v > blk.groundH && v < top - blk.floorH * 0.3 && fl > 0.25 && fl < 0.25 + blk.winH && col > (1 - blk.winW) / 2 && col < (1 + blk.winW) / 2
              const isShop = v < blk.groundH * 0.75 && v > blk.groundH * 0.1 && col > 0.1 && col < 0.9
              if (isWindow || isShop) {
                const refl = 0.8 + 0.5 * valueNoise(seed ^ 41, x / 4, y / 4)
                r = blk.window[0] * refl
                g = blk.window[1] * refl
                b = blk.window[2] * refl
              } else if (v > top - blk.floorH * 0.12) {
                r *= 0.75
                g *= 0.75
                b *= 0.75
              }
              const f = side.light * (1 + 0.12 * (valueNoise(seed ^ 43, x / 3, y / 3) - 0.5))
              m.r = r * f
              m.g = g * f
              m.b = b * f
              m.grain = 0.04
              c.put(i, x, y, m, STREET_CLASS.building, 0)
            }
          }
        }
      } else {
        // Never lower than the camera: the top of anything standing on flat ground, lower than the camera, is seen
        // against more ground behind it, not against sky.
        const bh = Math.max(s.wallY - yh + unit, s.backdropH * (0.45 + 0.55 * hash01(seed ^ 53, Math.floor(x / s.backdropBlockW), 0)))
        if (y >= s.wallY - bh) {
          painted = true
          const veg = s.backdropVeg ? valueNoise(seed ^ 59, x / 7, 0) > 0.35 : valueNoise(seed ^ 59, x / 7, 0) > 0.75
          const n = fbm(seed ^ 61, x / 2, y / 2)
          if (veg) {
            m.r = 0.22 * (0.7 + 0.6 * n)
            m.g = 0.36 * (0.7 + 0.6 * n)
            m.b = 0.16 * (0.7 + 0.6 * n)
            c.put(i, x, y, m, STREET_CLASS.vegetation, 0)
          } else {
            const shade = 0.5 + 0.25 * hash01(seed ^ 67, Math.floor(x / s.backdropBlockW), 1)
            const win = ((y / unit) * 1.3) % 1 < 0.35 && ((x / unit) * 0.9) % 1 < 0.5 ? 0.7 : 1
            m.r = m.g = (shade + 0.1 * n) * win
            m.b = m.r * 1.04
            c.put(i, x, y, m, STREET_CLASS.building, 0)
          }
        }
      }
      if (!painted) {
        const k = clamp01(y / Math.max(1, yh))
        const cl = s.sky.clouds > 0.02 ? s.sky.clouds * clamp01((fbm(seed ^ 71, x / 14, y / 5) - 0.45) * 3) : 0
        skyM.r = s.sky.top[0] + (s.sky.horizon[0] - s.sky.top[0]) * k
        skyM.g = s.sky.top[1] + (s.sky.horizon[1] - s.sky.top[1]) * k
        skyM.b = s.sky.top[2] + (s.sky.horizon[2] - s.sky.top[2]) * k
        skyM.r += (0.95 - skyM.r) * cl
        skyM.g += (0.95 - skyM.g) * cl
        skyM.b += (0.96 - skyM.b) * cl
        c.put(i, x, y, skyM, STREET_CLASS.sky, 0)
      }
    }
  }
}
