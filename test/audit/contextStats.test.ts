import { describe, expect, it } from 'vitest'
import {
  bootstrapIntervals,
  contourRing,
  explanationCounts,
  requestedObject,
  summarise,
  type ContextCounts
} from '../../src/main/audit/contextStats'
import { computeStats, type CountedExplanation } from '../../src/main/audit/stats'
import { seeded } from './fixtures/data'

/** The statistics' arithmetic against values worked out by hand. */

const W = 20
const H = 20
const square = (x0: number, y0: number, s: number): Uint8Array => {
  const m = new Uint8Array(W * H)
  for (let y = y0; y < y0 + s; y++) for (let x = x0; x < x0 + s; x++) m[y * W + x] = 1
  return m
}
const count = (m: Uint8Array) => m.reduce((a, b) => a + b, 0)

describe('contour baseline', () => {
  it('the ring of a square request has the hand-counted size for radius 1 and 2', () => {
    const R = square(8, 8, 4)
    // Radius 1 (Euclidean): one pixel out on each side, no corners: 4·4.
    expect(count(contourRing(R, W, H, 1))).toBe(16)
    // Radius 2: two pixels out on each side (8·4) plus the one diagonal (1,1) pixel at each corner.
    expect(count(contourRing(R, W, H, 2))).toBe(36)
    // Never inside the request, and clipped at the border.
    const ring = contourRing(R, W, H, 2)
    for (let i = 0; i < R.length; i++) if (R[i]) expect(ring[i]).toBe(0)
    expect(count(contourRing(square(0, 0, 4), W, H, 1))).toBe(8)
  })

  it('counts GT classes on the ring: left half class 0, right half class 1', () => {
    const R = square(8, 8, 4)
    const gt = new Uint16Array(W * H)
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) gt[y * W + x] = x < 10 ? 0 : 1
    const c = explanationCounts({ gt, request: R, saliency: new Float32Array(W * H), width: W, height: H, contourRadius: 1, classCount: 2 })
    // Ring: column 7 (4 px, class 0), column 12 (4 px, class 1), rows 7 and 12 over columns 8–11 (2+2 px per side each).
    expect(Array.from(c.ring)).toEqual([8, 8])
    expect(summarise(c).baselineShare).toEqual([0.5, 0.5])
    // Context pixels: everything outside R: 200 − 8 class 0, 200 − 8 class 1.
    expect(Array.from(c.pixels)).toEqual([192, 192])
  })
})

describe('the requested object is not its own context', () => {
  // Class 1: an 8×4 object (rows 8–11, columns 4–11) of which the request covers the left half; a second class-1
  // object (rows 16–17) touches it nowhere; class 2 is a 2×2 patch next to the object.
  const gt = new Uint16Array(W * H)
  for (let y = 8; y < 12; y++) for (let x = 4; x < 12; x++) gt[y * W + x] = 1
  for (let y = 16; y < 18; y++) for (let x = 4; x < 12; x++) gt[y * W + x] = 1
  for (let y = 8; y < 10; y++) for (let x = 12; x < 14; x++) gt[y * W + x] = 2
  const R = new Uint8Array(W * H)
  for (let y = 8; y < 12; y++) for (let x = 4; x < 8; x++) R[y * W + x] = 1

  it('requestedObject: the connected rest of the GT object, not the request, not another object of the class', () => {
    const object = requestedObject(gt, R, W, H, 1)
    expect(count(object)).toBe(16)
    for (let y = 8; y < 12; y++) for (let x = 8; x < 12; x++) expect(object[y * W + x]).toBe(1)
    for (let x = 4; x < 12; x++) expect(object[16 * W + x]).toBe(0)
    for (let i = 0; i < R.length; i++) if (R[i]) expect(object[i]).toBe(0)
  })

  it('its saliency is counted apart: class shares and densities leave it out, objectShare holds it', () => {
    // Saliency 1 on the object's uncovered half, 0.5 on the class-2 patch, 0.25 on the other class-1 object.
    const saliency = new Float32Array(W * H)
    for (let y = 8; y < 12; y++) for (let x = 8; x < 12; x++) saliency[y * W + x] = 1
    for (let y = 8; y < 10; y++) for (let x = 12; x < 14; x++) saliency[y * W + x] = 0.5
    for (let y = 16; y < 18; y++) for (let x = 4; x < 12; x++) saliency[y * W + x] = 0.25
    const object = requestedObject(gt, R, W, H, 1)
    const c = explanationCounts({ gt, request: R, saliency, width: W, height: H, contourRadius: 1, classCount: 3, object })
    expect(c.objectMass).toBeCloseTo(16, 6)
    expect(c.mass[1]).toBeCloseTo(16 * 0.25, 6)
    expect(c.pixels[1]).toBe(16)
    expect(c.mass[2]).toBeCloseTo(4 * 0.5, 6)
    const s = summarise(c)
    expect(s.share[1]).toBeCloseTo(4 / 6, 6)
    expect(s.share[2]).toBeCloseTo(2 / 6, 6)
    expect(s.objectShare).toBeCloseTo(16 / 22, 6)
    // The paper's C = 1 − R counts the same uncovered half as class 1.
    const paper = explanationCounts({ gt, request: R, saliency, width: W, height: H, contourRadius: 1, classCount: 3 })
    expect(paper.objectMass).toBe(0)
    expect(paper.mass[1]).toBeCloseTo(16 + 4, 6)
  })
})

describe('Fig. 6 share, density and lift', () => {
  it('saliency that sits exactly on one context class gives that class share 1', () => {
    const R = square(2, 2, 4)
    const gt = new Uint16Array(W * H).fill(0)
    for (let y = 10; y < 15; y++) for (let x = 10; x < 15; x++) gt[y * W + x] = 2 // a 5×5 object of class 2
    gt[0] = 255 // ignored pixels never count
    const saliency = new Float32Array(W * H)
    for (let i = 0; i < gt.length; i++) saliency[i] = gt[i] === 2 ? 0.8 : 0
    saliency[0] = 1
    const c = explanationCounts({ gt, request: R, saliency, width: W, height: H, contourRadius: 2, classCount: 3 })
    const s = summarise(c)
    expect(s.share).toEqual([0, 0, 1])
    expect(c.mass[2]).toBeCloseTo(25 * 0.8, 5)
    expect(s.density[2]).toBeCloseTo(0.8, 6)
    expect(s.density[0]).toBe(0)
    expect(s.density[1]).toBeNull()
    // Mean context density = 20 / (400 − 16 − 1): class 2 stands out by 0.8 / that.
    expect(s.densityRatio[2]).toBeCloseTo(0.8 / (20 / 383), 6)
    // The ring around R sits on class 0 only: baseline share 1 there, so no lift can be computed for class 2.
    expect(s.baselineShare).toEqual([1, 0, 0])
    expect(s.lift).toEqual([0, null, null])
  })

  it('summarise: the arithmetic on hand-made counts', () => {
    const c: ContextCounts = { mass: Float64Array.from([2, 6]), pixels: Float64Array.from([10, 20]), ring: Float64Array.from([15, 5]), objectMass: 0 }
    const s = summarise(c)
    expect(s.share).toEqual([0.25, 0.75])
    expect(s.baselineShare).toEqual([0.75, 0.25])
    expect(s.lift[0]).toBeCloseTo(1 / 3, 12)
    expect(s.lift[1]).toBeCloseTo(3, 12)
    expect(s.density).toEqual([0.2, 0.3])
    // Mean density 8/30: a pixel of class 1 carries 1.125× the average context saliency, class 0 0.75×.
    expect(s.densityRatio[0]).toBeCloseTo(0.75, 12)
    expect(s.densityRatio[1]).toBeCloseTo(1.125, 12)
  })
})

describe('bootstrap intervals', () => {
  it('contain the true mean for a simple case, and are reproducible from the seed', () => {
    const r = seeded(11)
    const units = Array.from({ length: 400 }, () => r())
    const mean = (xs: readonly number[]) => [xs.reduce((a, b) => a + b, 0) / xs.length]
    const opts = { samples: 2000, seed: 5, level: 0.95 }
    const [[lo, hi]] = bootstrapIntervals(units, mean, opts)
    expect(lo).toBeLessThan(0.5)
    expect(hi).toBeGreaterThan(0.5)
    // The standard error of a uniform mean over 400 is 0.0144: a 95% interval is about ±0.028 wide.
    expect(hi - lo).toBeGreaterThan(0.04)
    expect(hi - lo).toBeLessThan(0.08)
    expect(bootstrapIntervals(units, mean, opts)).toEqual([[lo, hi]])
    expect(bootstrapIntervals(units, mean, { ...opts, seed: 6 })).not.toEqual([[lo, hi]])
  })
})

describe('Table 1 and alerts from hand-built explanations', () => {
  const classes = [
    { id: 0, name: 'road', color: [0, 0, 0] as [number, number, number] },
    { id: 1, name: 'bicycle', color: [0, 0, 0] as [number, number, number] },
    { id: 2, name: 'person', color: [0, 0, 0] as [number, number, number] },
    { id: 3, name: 'rider', color: [0, 0, 0] as [number, number, number] }
  ]
  const counts = (mass: number[], pixels: number[], ring: number[]): ContextCounts => ({
    mass: Float64Array.from(mass),
    pixels: Float64Array.from(pixels),
    ring: Float64Array.from(ring),
    objectMass: 0
  })
  let id = 0
  const expl = (imageId: number, gt: number, pred: number, c: ContextCounts): CountedExplanation => ({
    explanationId: ++id,
    segmentId: id,
    imageId,
    requestedClass: pred,
    gtClass: gt,
    predClass: pred,
    kind: gt === pred ? 'correct' : 'misclassified',
    recovered: true,
    counts: c
  })

  it('one row per (GT, prediction) pair with its saliency-weighted shares, correct first', () => {
    const explanations = [
      expl(1, 3, 3, counts([1, 3, 0, 0], [50, 5, 0, 0], [10, 2, 0, 0])),
      expl(2, 3, 3, counts([1, 1, 0, 0], [50, 5, 0, 0], [10, 2, 0, 0])),
      expl(3, 3, 2, counts([3, 0, 1, 0], [50, 0, 5, 0], [10, 0, 2, 0]))
    ]
    const { table1 } = computeStats({ classes, explanations }, { bootstrap: { samples: 10 } })
    expect(table1.map((r) => [r.gtName, r.predName, r.kind, r.explanations])).toEqual([
      ['rider', 'rider', 'correct', 2],
      ['rider', 'person', 'misclassified', 1]
    ])
    // rider→rider: masses summed (2, 4, 0, 0) over 6; rider→person: (3, 0, 1, 0) over 4.
    expect(table1[0].shares).toEqual({ '0': 2 / 6, '1': 4 / 6, '2': 0, '3': 0 })
    expect(table1[1].shares).toEqual({ '0': 0.75, '1': 0, '2': 0.25, '3': 0 })
    expect(table1[0].densities['1']).toBeCloseTo(4 / 10, 12)
    expect(table1[1].densities['1']).toBeNull()
  })

  it('a small decisive context class raises a density alert with an interval and examples; an even one does not', () => {
    // 20 rider images: the bicycle (5 px) holds most saliency while its ring share equals its saliency share.
    // 20 person images: saliency spread evenly over road and bicycle pixels.
    const explanations: CountedExplanation[] = []
    const r = seeded(3)
    for (let i = 0; i < 20; i++) {
      const b = 2 + r()
      explanations.push(expl(100 + i, 3, 3, counts([1, b, 0, 0], [100, 5, 0, 0], [1, b, 0, 0])))
      const d = 0.01 * (1 + r())
      explanations.push(expl(200 + i, 2, 2, counts([100 * d, 5 * d, 0, 0], [100, 5, 0, 0], [20, 1, 0, 0])))
    }
    const stats = computeStats({ classes, explanations }, { bootstrap: { samples: 500, seed: 1 }, alerts: { densityRatio: 3, shareMargin: 0.05 } })
    const rider = stats.perClass.find((p) => p.name === 'rider')!
    const bicycle = rider.context.find((c) => c.name === 'bicycle')!
    expect(bicycle.share - bicycle.baselineShare).toBeCloseTo(0, 12)
    expect(bicycle.densityRatio!).toBeGreaterThan(10)
    const alerts = stats.alerts.map((a) => `${a.requestedName}←${a.contextName}:${a.reason}`)
    expect(alerts).toEqual(['rider←bicycle:density'])
    const [alert] = stats.alerts
    expect(alert.ci[0]).toBeLessThanOrEqual(alert.value)
    expect(alert.ci[1]).toBeGreaterThanOrEqual(alert.value)
    expect(alert.ci[0]).toBeGreaterThan(3)
    expect(alert.examples).toHaveLength(3)
    // Examples: the rider explanations with the largest own bicycle share (b ≈ 3 → 0.75).
    for (const e of alert.examples) expect(e.share).toBeGreaterThan(0.66)
    expect(new Set(alert.examples.map((e) => e.imageId)).size).toBe(3)
    // Seeded: the same intervals again.
    expect(computeStats({ classes, explanations }, { bootstrap: { samples: 500, seed: 1 } }).alerts[0].ci).toEqual(alert.ci)
  })
})
