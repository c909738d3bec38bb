import {
  STREET_CLASS,
  StreetSceneOptionsSchema,
  type StreetObject,
  type StreetObjectKind,
  type StreetSceneMeta,
  type StreetSceneOptions,
  type StreetSceneOptionsInput
} from '@common/streetScenes'
import { Canvas, type Box } from './canvas'
import {
  BIKE_TOP,
  CAR_COVER,
  CAR_HEIGHT,
  RIDER_LIFT,
  bikeBox,
  drawBicycle,
  drawCar,
  drawFigure,
  drawPole,
  drawTree,
  figureBox,
  poleBox,
  sampleBikeLook,
  sampleCarLook,
  sampleFigureLook,
  samplePoleLook,
  sampleTreeLook,
  treeBox,
  trunkBox
} from './objects'
import { hash01, type Rng } from '../../prng'
import { buildStreet, figureHeightAt, lateralAt, paintBackground, surfaceAt, xAtLateral, type Street, type Surface } from './street'

/*
 * Scene composition. The dataset exists to make a small segmentation model depend on context in a way saliency can
 * show: persons and riders share one figure drawing and one clothing distribution, so the only thing that tells a
 * rider is the bicycle under it (and, weakly, the road: persons stand on it too, at personOnRoadRate). Riders whose
 * bicycle is hidden keep the rider label; persons are truncated the same ways, so such a figure is ambiguous and
 * the model's guess is a context error to explain. Placement works on boxes so these facts hold exactly in the
 * pixels: riders and truncated figures are never overlapped by others, and visible bicycles keep a clearance from
 * every figure that is not their rider.
 */

export interface StreetScene {
  /** height × width × 3 RGB bytes, row-major. */
  image: Uint8Array
  /** height × width class ids (0–9). */
  label: Uint8Array
  /** height × width instance ids: 0 for stuff, else meta.objects[k].instance. */
  instances: Uint8Array
  meta: StreetSceneMeta
}

/**
 * Distance (output pixels at 64 rows, scaled with the height) that every visible bicycle keeps from persons and
 * from riders whose own bicycle is hidden: with it, "a bicycle next to the figure" is exactly what tells a rider.
 */
export const BIKE_CLEARANCE_64 = 5

/** One thing to draw, with what placement needs to know about it. */
interface Item {
  kind: StreetObjectKind
  box: Box
  footY: number
  surface: Surface
  group: number
  /** Nothing of another group may overlap it: riders with their bicycles and truncated figures stay whole. */
  strict: boolean
  /** Visible bicycles keep BIKE_CLEARANCE away from it. */
  avoidBikes: boolean
  /** A bicycle that is meant to be seen (not one hidden behind its occluding car). */
  visibleBike: boolean
  draw: (c: Canvas, inst: number) => void
  partnerItem?: Item
  hidden?: 'car' | 'border' | null
  occludesItem?: Item
  instance?: number
  /** Takes part in placement only (a tree trunk's footprint); never drawn or reported. */
  ghost?: boolean
}

const overlapArea = (a: Box, b: Box): number =>
  Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])) * Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]))
const area = (b: Box): number => Math.max(1e-6, (b[2] - b[0]) * (b[3] - b[1]))
const grow = (b: Box, d: number): Box => [b[0] - d, b[1] - d, b[2] + d, b[3] + d]

function conflicts(a: Item, b: Item, clearance: number): boolean {
  if ((a.visibleBike && b.avoidBikes) || (b.visibleBike && a.avoidBikes)) {
    const bike = a.visibleBike ? a : b
    const other = a.visibleBike ? b : a
    if (overlapArea(grow(bike.box, clearance), other.box) > 0) return true
  }
  const ov = overlapArea(a.box, b.box)
  if (ov === 0) return false
  if (a.kind === 'tree' || b.kind === 'tree') {
    // Crowns may spread over cars, poles and each other, never over a figure or bicycle.
    const other = a.kind === 'tree' ? b : a
    return other.kind === 'person' || other.kind === 'rider' || other.kind === 'bicycle'
  }
  if (a.strict || b.strict) return true
  return ov / Math.min(area(a.box), area(b.box)) > 0.15
}

class Placer {
  readonly items: Item[] = []
  private nextGroup = 1
  constructor(readonly clearance: number) {}
  /** Adds the group if it fits among what is already placed. */
  tryAdd(group: Item[]): boolean {
    for (const n of group) for (const e of this.items) if (conflicts(n, e, this.clearance)) return false
    const g = this.nextGroup++
    for (const n of group) {
      n.group = g
      this.items.push(n)
    }
    return true
  }
}

function binomial(rng: Rng, n: number, p: number): number {
  let k = 0
  for (let i = 0; i < n; i++) if (rng.next() < p) k++
  return k
}

/** A point on `surface` at depth t (1 = bottom row), optionally restricted to a lateral band. */
function groundPoint(rng: Rng, s: Street, surface: Surface, t: number, band?: [number, number]): { x: number; y: number } | null {
  const y = s.horizonY + t * (s.height - s.horizonY)
  let lo: number
  let hi: number
  if (band) [lo, hi] = band
  else if (surface === 'road') [lo, hi] = [s.roadL, s.roadR]
  else [lo, hi] = rng.chance(0.5) ? [s.left.facade, s.roadL] : [s.roadR, s.right.facade]
  // Keep the point on the image, with a little margin so objects are not mostly cut by the side borders.
  const margin = 2 * (s.height / 64)
  const xlo = Math.max(xAtLateral(s, lo, y), margin)
  const xhi = Math.min(xAtLateral(s, hi, y), s.width - margin)
  if (xhi <= xlo) return null
  const x = rng.range(xlo, xhi)
  return surfaceAt(s, x, y) === surface ? { x, y } : null
}

/** The surface under an off-image point below the bottom border, judged on the last row. */
function surfaceBelow(s: Street, x: number): Surface | null {
  return surfaceAt(s, x, s.height - 0.5 * (s.height / 64))
}

function bikeLaneBand(s: Street): [number, number] | null {
  if (!s.bikeLane) return null
  const { inner, outer } = s.bikeLane
  return [Math.min(inner, outer), Math.max(inner, outer)]
}

function carItem(x0: number, x1: number, g: number, hc: number, look: ReturnType<typeof sampleCarLook>): Item {
  return {
    kind: 'car',
    box: [x0, g - hc, x1, g],
    footY: g,
    surface: 'road',
    group: 0,
    strict: false,
    avoidBikes: false,
    visibleBike: false,
    draw: (c, inst) => drawCar(c, x0, x1, g, hc, look, inst)
  }
}

/**
 * A figure whose lower part is hidden: by a boxy car parked just in front, or by the bottom border. Riders get
 * their bicycle drawn (behind the car) or placed wholly below the image; persons are shown the same way, so the
 * visible head and shoulders look alike.
 */
function placeTruncatedFigure(
  rng: Rng,
  s: Street,
  placer: Placer,
  kind: 'person' | 'rider',
  mode: 'car' | 'border',
  onRoad: number
): Item | null {
  const unit = s.height / 64
  // Safety margins that must stay at least a whole output pixel, whatever the size.
  const px1 = Math.max(1, unit)
  const look = sampleFigureLook(rng)
  const lift = kind === 'rider' ? RIDER_LIFT : 0
  for (let attempt = 0; attempt < 40; attempt++) {
    const visible = rng.range(0.26, 0.38)
    if (mode === 'border') {
      const h = unit * rng.range(17, 25)
      const x = rng.range(0.1, 0.9) * s.width
      const surf = surfaceBelow(s, x)
      const want: Surface = kind === 'rider' || rng.chance(onRoad) ? 'road' : 'sidewalk'
      if (surf !== want) continue
      // Rider: the whole bicycle (up to BIKE_TOP) lies at least half a pixel below the last row.
      const g = kind === 'rider' ? s.height + BIKE_TOP * h + 0.5 * px1 + rng.range(0, 0.04) * h : s.height + (1 - visible) * h
      const feet = g - lift * h
      const fig: Item = {
        kind,
        box: figureBox(x, feet, h),
        footY: g,
        surface: want,
        group: 0,
        strict: true,
        avoidBikes: true,
        visibleBike: false,
        hidden: 'border',
        draw: (c, inst) => drawFigure(c, x, feet, h, look, STREET_CLASS[kind], inst)
      }
      if (placer.tryAdd([fig])) return fig
      continue
    }
    const t = rng.range(0.45, 0.85)
    const want: Surface = kind === 'rider' || rng.chance(onRoad) ? 'road' : 'sidewalk'
    const p = groundPoint(rng, s, want, t)
    if (!p) continue
    const g = p.y
    const h = figureHeightAt(s, g) * rng.range(0.94, 1.06)
    const feet = g - lift * h
    const figTop = feet - h
    const gc = g + unit * rng.range(1, 3)
    if (gc > s.height - 0.5 * unit) continue
    const hcFig = figureHeightAt(s, gc)
    const bikeLook = sampleBikeLook(rng)
    const bb = bikeBox(p.x, g, h, bikeLook)
    const fb = figureBox(p.x, feet, h)
    // The roof hides everything below the shown share of the figure, and for a rider the whole bicycle.
    let carTop = figTop + visible * h
    if (kind === 'rider') carTop = Math.min(carTop, g - BIKE_TOP * h - px1)
    const hc = gc - carTop
    if (hc < 0.7 * hcFig || hc > 1.05 * hcFig) continue
    const cover: [number, number] = kind === 'rider' ? [Math.min(bb[0], fb[0]) - px1, Math.max(bb[2], fb[2]) + px1] : [fb[0] - px1, fb[2] + px1]
    const need = (cover[1] - cover[0]) / (1 - 2 * CAR_COVER)
    const L = Math.max(need + 0.5 * px1, hcFig * rng.range(1.6, 2.4))
    const x0lo = cover[1] - (1 - CAR_COVER) * L
    const x0hi = cover[0] - CAR_COVER * L
    if (x0hi < x0lo) continue
    const x0 = rng.range(x0lo, x0hi)
    if (surfaceAt(s, x0 + L / 2, gc) !== 'road') continue
    const car = carItem(x0, x0 + L, gc, hc, sampleCarLook(rng, 'side', true))
    const fig: Item = {
      kind,
      box: fb,
      footY: g,
      surface: want,
      group: 0,
      strict: true,
      avoidBikes: true,
      visibleBike: false,
      hidden: 'car',
      draw: (c, inst) => drawFigure(c, p.x, feet, h, look, STREET_CLASS[kind], inst)
    }
    car.occludesItem = fig
    const group: Item[] = [fig, car]
    if (kind === 'rider') {
      const bike: Item = {
        kind: 'bicycle',
        box: bb,
        footY: g - 1e-3, // drawn just before its rider
        surface: 'road',
        group: 0,
        strict: true,
        avoidBikes: false,
        visibleBike: false,
        partnerItem: fig,
        draw: (c, inst) => drawBicycle(c, p.x, g, h, bikeLook, inst)
      }
      fig.partnerItem = bike
      group.push(bike)
    }
    if (placer.tryAdd(group)) return fig
  }
  return null
}

function placeRider(rng: Rng, s: Street, placer: Placer): Item | null {
  const look = sampleFigureLook(rng)
  const lane = bikeLaneBand(s)
  for (let attempt = 0; attempt < 40; attempt++) {
    const t = rng.range(0.45, 0.97)
    const p = lane && rng.chance(0.6) ? groundPoint(rng, s, 'road', t, lane) : groundPoint(rng, s, 'road', t)
    if (!p) continue
    const g = p.y
    const h = figureHeightAt(s, g) * rng.range(0.94, 1.06)
    const bikeLook = sampleBikeLook(rng)
    const bb = bikeBox(p.x, g, h, bikeLook)
    // Both wheels on the road, not one of them up on the sidewalk.
    const axle = 0.3 * h * bikeLook.foreshorten
    if (surfaceAt(s, p.x - axle, g) !== 'road' || surfaceAt(s, p.x + axle, g) !== 'road') continue
    const cx = p.x - bikeLook.dir * bikeLook.foreshorten * 0.03 * h
    const feet = g - RIDER_LIFT * h
    const fig: Item = {
      kind: 'rider',
      box: figureBox(cx, feet, h),
      footY: g,
      surface: 'road',
      group: 0,
      strict: true,
      avoidBikes: false,
      visibleBike: false,
      hidden: null,
      draw: (c, inst) => drawFigure(c, cx, feet, h, look, STREET_CLASS.rider, inst)
    }
    const bike: Item = {
      kind: 'bicycle',
      box: bb,
      footY: g - 1e-3,
      surface: 'road',
      group: 0,
      strict: true,
      avoidBikes: false,
      visibleBike: true,
      partnerItem: fig,
      draw: (c, inst) => drawBicycle(c, p.x, g, h, bikeLook, inst)
    }
    fig.partnerItem = bike
    if (placer.tryAdd([fig, bike])) return fig
  }
  return null
}

function placePerson(rng: Rng, s: Street, placer: Placer, onRoad: number): Item | null {
  const look = sampleFigureLook(rng)
  for (let attempt = 0; attempt < 40; attempt++) {
    const surface: Surface = rng.chance(onRoad) ? 'road' : 'sidewalk'
    const p = groundPoint(rng, s, surface, rng.range(0.45, 0.97))
    if (!p) continue
    const h = figureHeightAt(s, p.y) * rng.range(0.92, 1.08)
    const fig: Item = {
      kind: 'person',
      box: figureBox(p.x, p.y, h),
      footY: p.y,
      surface,
      group: 0,
      strict: false,
      avoidBikes: true,
      visibleBike: false,
      hidden: null,
      draw: (c, inst) => drawFigure(c, p.x, p.y, h, look, STREET_CLASS.person, inst)
    }
    if (placer.tryAdd([fig])) return fig
  }
  return null
}

function placeCar(rng: Rng, s: Street, placer: Placer): Item | null {
  const mid = (s.roadL + s.roadR) / 2
  const roadW = s.roadR - s.roadL
  for (let attempt = 0; attempt < 30; attempt++) {
    const p = groundPoint(rng, s, 'road', rng.range(0.15, 0.97))
    if (!p) continue
    const hf = figureHeightAt(s, p.y)
    const lat = lateralAt(s, p.x, p.y)
    const view = Math.abs(lat - mid) < 0.22 * roadW && rng.chance(0.7) ? 'rear' : 'side'
    const look = sampleCarLook(rng, view)
    const hc = CAR_HEIGHT * hf * rng.range(0.92, 1.08) * (look.boxy ? 1.1 : 1)
    const L = hf * (view === 'rear' ? rng.range(1, 1.15) : rng.range(1.7, 2.5))
    const x0 = p.x - L / 2
    const car = carItem(x0, x0 + L, p.y, hc, look)
    if (placer.tryAdd([car])) return car
  }
  return null
}

function placeParkedBike(rng: Rng, s: Street, placer: Placer): Item | null {
  for (let attempt = 0; attempt < 30; attempt++) {
    const p = groundPoint(rng, s, 'sidewalk', rng.range(0.4, 0.97))
    if (!p) continue
    const h = figureHeightAt(s, p.y)
    const look = sampleBikeLook(rng)
    const bike: Item = {
      kind: 'bicycle',
      box: bikeBox(p.x, p.y, h, look),
      footY: p.y,
      surface: 'sidewalk',
      group: 0,
      strict: false,
      avoidBikes: false,
      visibleBike: true,
      draw: (c, inst) => drawBicycle(c, p.x, p.y, h, look, inst)
    }
    if (placer.tryAdd([bike])) return bike
  }
  return null
}

function placePole(rng: Rng, s: Street, placer: Placer): Item | null {
  for (let attempt = 0; attempt < 20; attempt++) {
    const left = rng.chance(0.5)
    const near = left ? s.roadL - (s.roadL - s.left.facade) * 0.15 : s.roadR + (s.right.facade - s.roadR) * 0.15
    const band: [number, number] = left ? [near - 1, near] : [near, near + 1]
    const p = groundPoint(rng, s, 'sidewalk', rng.range(0.1, 0.95), band)
    if (!p) continue
    const h = figureHeightAt(s, p.y)
    const look = samplePoleLook(rng)
    look.dir = left ? 1 : -1
    const pole: Item = {
      kind: 'pole',
      box: poleBox(p.x, p.y, h, look),
      footY: p.y,
      surface: 'sidewalk',
      group: 0,
      strict: false,
      avoidBikes: false,
      visibleBike: false,
      draw: (c, inst) => drawPole(c, p.x, p.y, h, look, inst)
    }
    if (placer.tryAdd([pole])) return pole
  }
  return null
}

function placeTree(rng: Rng, s: Street, placer: Placer): Item | null {
  for (let attempt = 0; attempt < 20; attempt++) {
    const left = rng.chance(0.5)
    const far = left ? s.left.facade + (s.roadL - s.left.facade) * 0.3 : s.right.facade - (s.right.facade - s.roadR) * 0.3
    const band: [number, number] = left ? [s.left.facade, far] : [far, s.right.facade]
    const p = groundPoint(rng, s, 'sidewalk', rng.range(0.1, 0.95), band)
    if (!p) continue
    const h = figureHeightAt(s, p.y)
    const look = sampleTreeLook(rng)
    const tree: Item = {
      kind: 'tree',
      box: treeBox(p.x, p.y, h, look),
      footY: p.y,
      surface: 'sidewalk',
      group: 0,
      strict: false,
      avoidBikes: false,
      visibleBike: false,
      draw: (c, inst) => drawTree(c, p.x, p.y, h, look, inst)
    }
    // The trunk is a separate blocker so nothing stands inside it; the crown only avoids figures (see conflicts).
    const trunk: Item = { ...tree, kind: 'pole', box: trunkBox(p.x, p.y, h), ghost: true }
    if (placer.tryAdd([tree, trunk])) return tree
  }
  return null
}

/** Parses scene options, filling defaults. */
export function streetSceneOptions(input: StreetSceneOptionsInput = {}): StreetSceneOptions {
  return StreetSceneOptionsSchema.parse(input)
}

/**
 * One street scene from a random stream. Everything (layout, objects, colours, lighting) comes from `rng`, so the
 * same seed gives the same bytes.
 */
export function generateStreetScene(rng: Rng, input: StreetSceneOptionsInput | StreetSceneOptions = {}): StreetScene {
  const o = StreetSceneOptionsSchema.parse(input)
  const { width: W, height: H } = o
  const unit = H / 64
  const street = buildStreet(rng, W, H, o.bikeLaneRate)
  const placer = new Placer(BIKE_CLEARANCE_64 * unit)

  // Truncated figures need the most room, so they go first; this keeps the hidden rate close to the option.
  const nFigures = 1 + binomial(rng, 8, (o.figuresPerImage - 1) / 8)
  const plans: { kind: 'person' | 'rider'; hidden: 'car' | 'border' | null }[] = []
  for (let k = 0; k < nFigures; k++) {
    const kind = rng.chance(o.riderFraction) ? 'rider' : 'person'
    const rate = kind === 'rider' ? o.hiddenBicycleRate : o.occludedPersonRate
    const hidden = rng.chance(rate) ? (rng.chance(o.carOcclusionShare) ? 'car' : 'border') : null
    plans.push({ kind, hidden })
  }
  plans.sort((a, b) => Number(b.hidden !== null) - Number(a.hidden !== null))
  for (const plan of plans) {
    if (plan.hidden) placeTruncatedFigure(rng, street, placer, plan.kind, plan.hidden, o.personOnRoadRate)
    else if (plan.kind === 'rider') placeRider(rng, street, placer)
    else placePerson(rng, street, placer, o.personOnRoadRate)
  }
  const nCars = binomial(rng, 10, o.carsPerImage / 10)
  for (let k = 0; k < nCars; k++) placeCar(rng, street, placer)
  if (rng.chance(o.parkedBicycleRate)) placeParkedBike(rng, street, placer)
  const nPoles = rng.int(4)
  for (let k = 0; k < nPoles; k++) placePole(rng, street, placer)
  const nTrees = rng.int(4)
  for (let k = 0; k < nTrees; k++) placeTree(rng, street, placer)

  const canvas = new Canvas(W, H, rng.u32())
  paintBackground(canvas, street)
  const items = placer.items.filter((it) => !it.ghost).map((it, k) => ({ it, k }))
  items.sort((a, b) => a.it.footY - b.it.footY || a.k - b.k)
  const ordered = items.map(({ it }) => it).slice(0, 254)
  ordered.forEach((it, k) => (it.instance = k + 1))
  for (const it of ordered) {
    it.draw(canvas, it.instance!)
    if (it.kind === 'person' || it.kind === 'rider') {
      const h = it.box[3] - it.box[1]
      canvas.shadow((it.box[0] + it.box[2]) / 2, it.footY, h * 0.2, Math.max(0.6, h * 0.03), 0.7)
    }
  }

  // Camera: exposure, white balance, a touch of vignetting and sensor noise.
  const exposure = rng.range(0.75, 1.2)
  const tint = [1 + rng.normal() * 0.04, 1 + rng.normal() * 0.03, 1 + rng.normal() * 0.05]
  const vignette = rng.range(0, 0.25)
  const gamma = rng.range(0.85, 1.15)
  const noiseSeed = rng.u32()
  const noiseAmp = rng.range(0.01, 0.05)
  // Gamma through a table: Math.pow per channel and pixel dominated the camera step.
  const LUT_MAX = 2
  const lut = new Float32Array(1025)
  for (let k = 0; k < lut.length; k++) lut[k] = Math.pow((k / (lut.length - 1)) * LUT_MAX, gamma)
  const curve = (v: number): number => {
    const f = (Math.min(Math.max(v, 0), LUT_MAX) / LUT_MAX) * (lut.length - 1)
    const k = Math.min(lut.length - 2, f | 0)
    return lut[k] + (lut[k + 1] - lut[k]) * (f - k)
  }
  const { image, label, instances } = canvas.resolve((r, g, b, x, y, out) => {
    const dx = (x + 0.5) / W - 0.5
    const dy = (y + 0.5) / H - 0.5
    const v = exposure * (1 - vignette * (dx * dx + dy * dy) * 2)
    const n = noiseAmp * (hash01(noiseSeed, x, y) - 0.5)
    out[0] = curve(r * v * tint[0]) + n
    out[1] = curve(g * v * tint[1]) + n
    out[2] = curve(b * v * tint[2]) + n
  })

  const visible = new Int32Array(256)
  for (let p = 0; p < instances.length; p++) visible[instances[p]]++
  const objects: StreetObject[] = ordered.map((it) => {
    const obj: StreetObject = {
      instance: it.instance!,
      kind: it.kind,
      classId: it.kind === 'tree' ? STREET_CLASS.vegetation : STREET_CLASS[it.kind],
      box: it.box.map((v) => Math.round(v * 100) / 100) as Box,
      footY: Math.round(it.footY * 100) / 100,
      visiblePixels: visible[it.instance!],
      surface: it.surface
    }
    if (it.kind === 'rider' || it.kind === 'bicycle') obj.partner = it.partnerItem?.instance ?? null
    if (it.kind === 'rider' || it.kind === 'person') obj.hidden = it.hidden ?? null
    if (it.kind === 'car') obj.occludes = it.occludesItem?.instance ?? null
    return obj
  })
  const riders = objects.filter((ob) => ob.kind === 'rider')
  const persons = objects.filter((ob) => ob.kind === 'person')
  const meta: StreetSceneMeta = {
    width: W,
    height: H,
    horizonY: Math.round(street.horizonY * 100) / 100,
    vanishingX: Math.round(street.vanishingX * 100) / 100,
    bikeLane: street.bikeLane?.side ?? null,
    objects,
    persons: persons.length,
    riders: riders.length,
    hiddenBicycleRiders: riders.filter((r) => r.hidden).length,
    occludedPersons: persons.filter((p) => p.hidden).length,
    cars: objects.filter((ob) => ob.kind === 'car').length
  }
  return { image, label, instances, meta }
}
