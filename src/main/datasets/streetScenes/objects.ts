import { STREET_CLASS } from '@common/streetScenes'
import type { Box, Canvas, Material } from './canvas'
import type { Rng } from '../../prng'

/**
 * Drawers for the scene's things. Geometry is in output pixels, relative to where an object meets the ground
 * (cx, g) and to a size `h` (the height of a standing person at that depth). Every proportion that placement
 * relies on (how wide, how tall) is exported so occluders and spacing rules use the same numbers as the drawing.
 */

type Rgb = [number, number, number]
const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v)
const mat = (c: Rgb, grain = 0.04, blotch = 0): Material => ({ r: c[0], g: c[1], b: c[2], grain, blotch, blotchScale: 1.5 })

function hsv(h: number, s: number, v: number): Rgb {
  const f = (n: number): number => {
    const k = (n + h / 60) % 6
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1))
  }
  return [f(5), f(3), f(1)]
}

// ---------------------------------------------------------------- figures (persons and riders alike)

/** Half the width of a figure (arms included), as a share of its height. */
export const FIGURE_HALF_WIDTH = 0.17
/** A rider's feet rest on the pedals, this share of its height above the ground. */
export const RIDER_LIFT = 0.12

export interface FigureLook {
  skin: Rgb
  hair: Rgb
  shirt: Rgb
  trousers: Rgb
  shoes: Rgb
  /** Legs apart at the feet, share of height. */
  stride: number
  /** Jacket or coat length below the hips, share of height. */
  coat: number
  bag: Rgb | null
}

const SKINS: Rgb[] = [
  [0.93, 0.78, 0.66],
  [0.85, 0.66, 0.52],
  [0.7, 0.5, 0.36],
  [0.5, 0.34, 0.24],
  [0.36, 0.24, 0.17]
]
const TROUSERS: Rgb[] = [
  [0.15, 0.2, 0.35],
  [0.12, 0.12, 0.13],
  [0.35, 0.35, 0.37],
  [0.6, 0.53, 0.4],
  [0.25, 0.3, 0.45],
  [0.3, 0.22, 0.16]
]

/** One distribution for persons and riders alike, so clothing never gives the class away. */
export function sampleFigureLook(rng: Rng): FigureLook {
  const jit = (c: Rgb, a: number): Rgb => [clamp01(c[0] + rng.normal() * a), clamp01(c[1] + rng.normal() * a), clamp01(c[2] + rng.normal() * a)]
  const shirt = rng.chance(0.35) ? jit([0.15, 0.15, 0.16], 0.05) : rng.chance(0.2) ? jit([0.85, 0.85, 0.83], 0.05) : hsv(rng.range(0, 360), rng.range(0.25, 0.85), rng.range(0.3, 0.9))
  return {
    skin: jit(rng.pick(SKINS), 0.03),
    hair: rng.chance(0.7) ? jit([0.12, 0.09, 0.07], 0.03) : jit([0.55, 0.42, 0.25], 0.08),
    shirt,
    trousers: jit(rng.pick(TROUSERS), 0.04),
    shoes: jit([0.1, 0.1, 0.1], 0.03),
    stride: rng.range(0, 0.1),
    coat: rng.chance(0.3) ? rng.range(0.05, 0.2) : 0,
    bag: rng.chance(0.2) ? hsv(rng.range(0, 360), rng.range(0.2, 0.7), rng.range(0.2, 0.6)) : null
  }
}

/** Extent of a figure standing with its feet on row `feetY`. */
export function figureBox(cx: number, feetY: number, h: number): Box {
  return [cx - FIGURE_HALF_WIDTH * h, feetY - h, cx + FIGURE_HALF_WIDTH * h, feetY]
}

export function drawFigure(c: Canvas, cx: number, feetY: number, h: number, look: FigureLook, cls: number, inst: number): void {
  const top = feetY - h
  const limb = Math.max(0.9, 0.085 * h)
  const arm = Math.max(0.8, 0.065 * h)
  const hipY = top + 0.52 * h
  const shoulderY = top + 0.2 * h
  // Legs first: the coat and torso overlap them.
  const legX = 0.05 * h
  const footX = legX + look.stride * h * 0.5
  c.line(cx - legX, hipY, cx - footX, feetY - 0.04 * h, limb, mat(look.trousers), cls, inst)
  c.line(cx + legX, hipY, cx + footX, feetY - 0.04 * h, limb, mat(look.trousers), cls, inst)
  c.line(cx - footX - 0.02 * h, feetY - 0.03 * h, cx - footX + 0.02 * h, feetY - 0.03 * h, limb * 0.8, mat(look.shoes), cls, inst)
  c.line(cx + footX - 0.02 * h, feetY - 0.03 * h, cx + footX + 0.02 * h, feetY - 0.03 * h, limb * 0.8, mat(look.shoes), cls, inst)
  const shirtM = mat(look.shirt, 0.04, 0.25)
  c.polygon(
    [
      [cx - 0.13 * h, shoulderY],
      [cx + 0.13 * h, shoulderY],
      [cx + 0.11 * h, hipY + look.coat * h],
      [cx - 0.11 * h, hipY + look.coat * h]
    ],
    shirtM,
    cls,
    inst
  )
  c.ellipse(cx, shoulderY + 0.01 * h, 0.13 * h, 0.035 * h, shirtM, cls, inst)
  c.line(cx - 0.14 * h, shoulderY + 0.02 * h, cx - 0.16 * h, top + 0.5 * h, arm, shirtM, cls, inst)
  c.line(cx + 0.14 * h, shoulderY + 0.02 * h, cx + 0.16 * h, top + 0.5 * h, arm, shirtM, cls, inst)
  c.ellipse(cx - 0.16 * h, top + 0.52 * h, arm * 0.6, arm * 0.7, mat(look.skin), cls, inst)
  c.ellipse(cx + 0.16 * h, top + 0.52 * h, arm * 0.6, arm * 0.7, mat(look.skin), cls, inst)
  if (look.bag) c.rect(cx + 0.1 * h, top + 0.3 * h, cx + 0.19 * h, top + 0.45 * h, mat(look.bag), cls, inst)
  c.line(cx, top + 0.15 * h, cx, shoulderY + 0.02 * h, Math.max(0.7, 0.06 * h), mat(look.skin), cls, inst)
  c.ellipse(cx, top + 0.085 * h, 0.068 * h, 0.085 * h, mat(look.skin), cls, inst)
  c.ellipse(cx, top + 0.045 * h, 0.07 * h, 0.05 * h, mat(look.hair), cls, inst)
}

// ---------------------------------------------------------------- bicycles

/** Highest point of a bicycle (handlebar) above the ground, as a share of the rider-scale height. */
export const BIKE_TOP = 0.74
/** Half the bicycle's length (wheel to wheel) at full side view, as a share of the height. */
export const BIKE_HALF_LENGTH = 0.5

export interface BikeLook {
  frame: Rgb
  tyre: Rgb
  dir: 1 | -1
  /** cos of the viewing angle: 1 in full side view, smaller when seen obliquely. */
  foreshorten: number
}

/**
 * Frames in saturated colours (or chrome) and near-black tyres: a colour range of their own, so the bicycle is a
 * cue a small model can pick up.
 */
export function sampleBikeLook(rng: Rng): BikeLook {
  const frame: Rgb = rng.chance(0.85) ? hsv(rng.range(0, 360), rng.range(0.7, 1), rng.range(0.65, 1)) : [0.8, 0.82, 0.85]
  return { frame, tyre: [0.08, 0.08, 0.09], dir: rng.chance(0.5) ? 1 : -1, foreshorten: rng.range(0.65, 1) }
}

export function bikeBox(cx: number, g: number, h: number, look: BikeLook): Box {
  const half = BIKE_HALF_LENGTH * h * look.foreshorten
  return [cx - half, g - BIKE_TOP * h, cx + half, g]
}

export function drawBicycle(c: Canvas, cx: number, g: number, h: number, look: BikeLook, inst: number): void {
  const cls = STREET_CLASS.bicycle
  const d = look.dir * look.foreshorten
  const R = 0.2 * h
  const tube = Math.max(1, 0.05 * h)
  const tyre = Math.max(1, 0.055 * h)
  const X = (u: number): number => cx + d * u * h
  const Y = (v: number): number => g - v * h
  const frameM = mat(look.frame, 0.03)
  const tyreM = mat(look.tyre, 0.02)
  const rear: [number, number] = [X(-0.3), g - R]
  const front: [number, number] = [X(0.3), g - R]
  const rx = Math.max(R * look.foreshorten, tyre + 0.3)
  c.ellipseRing(rear[0], rear[1], rx, R, tyre, tyreM, cls, inst)
  c.ellipseRing(front[0], front[1], rx, R, tyre, tyreM, cls, inst)
  const bb: [number, number] = [X(0.02), Y(0.19)]
  const seat: [number, number] = [X(-0.08), Y(0.58)]
  const head: [number, number] = [X(0.22), Y(0.56)]
  const headLow: [number, number] = [X(0.24), Y(0.46)]
  c.line(bb[0], bb[1], seat[0], seat[1], tube, frameM, cls, inst)
  c.line(seat[0], seat[1], head[0], head[1], tube, frameM, cls, inst)
  c.line(bb[0], bb[1], headLow[0], headLow[1], tube, frameM, cls, inst)
  c.line(bb[0], bb[1], rear[0], rear[1], tube, frameM, cls, inst)
  c.line(seat[0], seat[1], rear[0], rear[1], tube, frameM, cls, inst)
  c.line(head[0], head[1], front[0], front[1], tube, frameM, cls, inst)
  c.line(head[0], head[1], X(0.21), Y(0.68), tube, frameM, cls, inst)
  c.line(X(0.21), Y(0.69), X(0.13), Y(0.69), tube, tyreM, cls, inst)
  c.line(X(-0.13), Y(0.62), X(-0.03), Y(0.62), tube, tyreM, cls, inst)
  c.line(X(-0.08), Y(0.6), seat[0], seat[1], tube, frameM, cls, inst)
}

// ---------------------------------------------------------------- cars

/** Height of a car as a share of a person's height at the same depth. */
export const CAR_HEIGHT = 0.85

export interface CarLook {
  body: Rgb
  glass: Rgb
  /** Side view shows the length and the wheels; rear view is a car driving ahead. */
  view: 'side' | 'rear'
  dir: 1 | -1
  /** Box-shaped (van, SUV): the cabin spans almost the whole length. */
  boxy: boolean
}

const CAR_COLOURS: Rgb[] = [
  [0.9, 0.9, 0.9],
  [0.7, 0.72, 0.74],
  [0.12, 0.12, 0.13],
  [0.45, 0.46, 0.48],
  [0.6, 0.1, 0.1],
  [0.12, 0.22, 0.5],
  [0.15, 0.3, 0.2],
  [0.85, 0.75, 0.2],
  [0.3, 0.25, 0.4]
]

export function sampleCarLook(rng: Rng, view: 'side' | 'rear', boxy = rng.chance(0.3)): CarLook {
  const base = rng.pick(CAR_COLOURS)
  const body: Rgb = [clamp01(base[0] + rng.normal() * 0.04), clamp01(base[1] + rng.normal() * 0.04), clamp01(base[2] + rng.normal() * 0.04)]
  return { body, glass: [0.14, 0.17, 0.22], view, dir: rng.chance(0.5) ? 1 : -1, boxy }
}

/**
 * What a boxy side-view car hides: from the ground to its roof, its silhouette covers at least
 * [x0 + CAR_COVER·L, x1 − CAR_COVER·L] (wheels and underbody below the sills, the cabin above them).
 */
export const CAR_COVER = 0.16

/** Draws a car occupying [x0, x1] × [g − hc, g]. */
export function drawCar(c: Canvas, x0: number, x1: number, g: number, hc: number, look: CarLook, inst: number): void {
  const cls = STREET_CLASS.car
  const L = x1 - x0
  const bodyM = mat(look.body, 0.03, 0.1)
  const dark = mat([0.06, 0.06, 0.07], 0.02)
  const glassM: Material = { ...mat(look.glass, 0.03), shade: (x, y) => 0.8 + 0.6 * (((x + y) * 0.35) % 1 < 0.2 ? 1 : 0) }
  const Y = (v: number): number => g - v * hc
  c.shadow((x0 + x1) / 2, g, L * 0.58, Math.max(1, 0.08 * hc), 0.45)
  if (look.view === 'rear') {
    const wheelW = 0.16 * L
    c.rect(x0 + 0.02 * L, Y(0.16), x0 + 0.02 * L + wheelW, g, dark, cls, inst)
    c.rect(x1 - 0.02 * L - wheelW, Y(0.16), x1 - 0.02 * L, g, dark, cls, inst)
    c.rect(x0 + 0.05 * L, Y(0.14), x1 - 0.05 * L, Y(0.03), dark, cls, inst)
    c.polygon([[x0, Y(0.12)], [x1, Y(0.12)], [x1, Y(0.52)], [x1 - 0.03 * L, Y(0.58)], [x0 + 0.03 * L, Y(0.58)], [x0, Y(0.52)]], bodyM, cls, inst)
    const inset = look.boxy ? 0.04 : 0.12
    c.polygon([[x0 + 0.04 * L, Y(0.57)], [x1 - 0.04 * L, Y(0.57)], [x1 - inset * L, Y(1)], [x0 + inset * L, Y(1)]], bodyM, cls, inst)
    c.polygon([[x0 + 0.09 * L, Y(0.6)], [x1 - 0.09 * L, Y(0.6)], [x1 - (inset + 0.05) * L, Y(0.93)], [x0 + (inset + 0.05) * L, Y(0.93)]], glassM, cls, inst)
    const lamp = mat([0.8, 0.08, 0.06], 0.02)
    c.rect(x0 + 0.03 * L, Y(0.45), x0 + 0.17 * L, Y(0.36), lamp, cls, inst)
    c.rect(x1 - 0.17 * L, Y(0.45), x1 - 0.03 * L, Y(0.36), lamp, cls, inst)
    c.rect(x0 + 0.4 * L, Y(0.3), x1 - 0.4 * L, Y(0.22), mat([0.9, 0.9, 0.88]), cls, inst)
    return
  }
  // Side view; `front` is the end the bonnet points to.
  const f = (u: number): number => (look.dir === 1 ? x0 + u * L : x1 - u * L)
  const wheelR = 0.19 * hc
  const cabin0 = look.boxy ? 0.06 : 0.2
  const cabin1 = look.boxy ? 0.9 : 0.68
  const slant = look.boxy ? 0.03 : 0.1
  c.rect(Math.min(f(0.12), f(0.88)), Y(0.16), Math.max(f(0.12), f(0.88)), Y(0.02), dark, cls, inst)
  c.polygon([[f(0), Y(0.14)], [f(1), Y(0.14)], [f(1), Y(0.48)], [f(0.97), Y(0.56)], [f(0.03), Y(0.56)], [f(0), Y(0.48)]], bodyM, cls, inst)
  c.polygon([[f(cabin0), Y(0.55)], [f(cabin1), Y(0.55)], [f(cabin1 - slant * 1.5), Y(1)], [f(cabin0 + slant), Y(1)]], bodyM, cls, inst)
  c.polygon(
    [[f(cabin0 + 0.04), Y(0.6)], [f(cabin1 - 0.05), Y(0.6)], [f(cabin1 - slant * 1.5 - 0.02), Y(0.92)], [f(cabin0 + slant + 0.03), Y(0.92)]],
    glassM,
    cls,
    inst
  )
  c.line(f((cabin0 + cabin1) / 2), Y(0.6), f((cabin0 + cabin1) / 2), Y(0.92), Math.max(0.6, 0.05 * hc), bodyM, cls, inst)
  for (const u of [0.2, 0.8]) {
    c.ellipse(f(u), g - wheelR, wheelR, wheelR, dark, cls, inst)
    c.ellipse(f(u), g - wheelR, wheelR * 0.45, wheelR * 0.45, mat([0.55, 0.55, 0.57]), cls, inst)
  }
  c.rect(Math.min(f(0.985), f(1)), Y(0.42), Math.max(f(0.94), f(1)), Y(0.34), mat([0.95, 0.9, 0.7]), cls, inst)
  c.rect(Math.min(f(0), f(0.02)), Y(0.44), Math.max(f(0.04), f(0)), Y(0.36), mat([0.8, 0.1, 0.08]), cls, inst)
}

// ---------------------------------------------------------------- poles and trees

export interface PoleLook {
  metal: Rgb
  top: 'lamp' | 'sign' | 'light' | 'none'
  sign: Rgb
  dir: 1 | -1
  /** Pole height as a share of a person's height. */
  height: number
}

export function samplePoleLook(rng: Rng): PoleLook {
  const v = rng.range(0.2, 0.55)
  return {
    metal: rng.chance(0.7) ? [v, v, v * 1.05] : [0.15, 0.25, 0.18],
    top: rng.pick(['lamp', 'sign', 'sign', 'light', 'none'] as const),
    sign: rng.pick([[0.8, 0.1, 0.1], [0.1, 0.25, 0.7], [0.9, 0.9, 0.9], [0.9, 0.75, 0.1]] as Rgb[]),
    dir: rng.chance(0.5) ? 1 : -1,
    height: rng.range(1.9, 3)
  }
}

export function poleBox(cx: number, g: number, h: number, look: PoleLook): Box {
  const reach = look.top === 'lamp' ? 0.45 * h : 0.16 * h
  return [cx - reach, g - look.height * h - 0.1 * h, cx + reach, g]
}

export function drawPole(c: Canvas, cx: number, g: number, h: number, look: PoleLook, inst: number): void {
  const cls = STREET_CLASS.pole
  const w = Math.max(1, 0.06 * h)
  const top = g - look.height * h
  const m: Material = { ...mat(look.metal, 0.03), shade: (x) => 0.8 + 0.5 * Math.max(0, 1 - Math.abs(x - cx + w * 0.2) / w) }
  c.line(cx, g, cx, top, w, m, cls, inst)
  if (look.top === 'lamp') {
    c.line(cx, top, cx + look.dir * 0.4 * h, top - 0.05 * h, w * 0.8, m, cls, inst)
    c.ellipse(cx + look.dir * 0.4 * h, top - 0.02 * h, 0.08 * h, 0.035 * h, mat([0.85, 0.85, 0.8]), cls, inst)
  } else if (look.top === 'sign') {
    c.ellipse(cx, top + 0.12 * h, 0.13 * h, 0.13 * h, mat(look.sign), cls, inst)
    c.ellipse(cx, top + 0.12 * h, 0.07 * h, 0.07 * h, mat([0.92, 0.92, 0.92]), cls, inst)
  } else if (look.top === 'light') {
    c.rect(cx - 0.07 * h, top, cx + 0.07 * h, top + 0.36 * h, mat([0.1, 0.1, 0.1]), cls, inst)
    const lit = [0.05, 0.17, 0.29]
    const on = Math.floor((cx * 7.3) % 3)
    lit.forEach((v, k) => c.ellipse(cx, top + (v + 0.02) * h, 0.04 * h, 0.04 * h, mat(k === on ? ([[0.9, 0.1, 0.1], [0.95, 0.7, 0.1], [0.1, 0.85, 0.3]] as Rgb[])[k] : [0.25, 0.25, 0.25]), cls, inst))
  }
}

export interface TreeLook {
  trunk: Rgb
  leaves: Rgb
  crownR: number
  trunkH: number
  blobs: [number, number, number][]
}

export function sampleTreeLook(rng: Rng): TreeLook {
  const crownR = rng.range(0.45, 0.85)
  const blobs: [number, number, number][] = []
  const n = 3 + rng.int(4)
  for (let k = 0; k < n; k++) blobs.push([rng.normal() * crownR * 0.45, rng.normal() * crownR * 0.35, crownR * rng.range(0.5, 0.8)])
  return {
    trunk: [0.3 + rng.normal() * 0.03, 0.22, 0.15],
    leaves: hsv(rng.range(75, 130), rng.range(0.45, 0.75), rng.range(0.3, 0.55)),
    crownR,
    trunkH: rng.range(1.3, 1.9),
    blobs
  }
}

export function treeBox(cx: number, g: number, h: number, look: TreeLook): Box {
  const r = look.crownR * 1.5 * h
  return [cx - r, g - (look.trunkH + look.crownR * 1.3) * h, cx + r, g]
}

/** Only the trunk: the part that stands on the ground and may not hide a figure. */
export function trunkBox(cx: number, g: number, h: number): Box {
  return [cx - 0.06 * h, g - 1.2 * h, cx + 0.06 * h, g]
}

export function drawTree(c: Canvas, cx: number, g: number, h: number, look: TreeLook, inst: number): void {
  const cls = STREET_CLASS.vegetation
  c.line(cx, g, cx, g - look.trunkH * h, Math.max(1, 0.1 * h), mat(look.trunk, 0.05), cls, inst)
  const cy = g - look.trunkH * h - look.crownR * 0.3 * h
  const leaves: Material = { ...mat(look.leaves, 0.08), blotch: 0.9, blotchScale: Math.max(0.8, 0.12 * h) }
  for (const [dx, dy, r] of look.blobs) c.ellipse(cx + dx * h, cy + dy * h, r * h, r * h * 0.9, leaves, cls, inst)
}
