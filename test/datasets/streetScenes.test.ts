import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  STREET_CLASS,
  STREET_SCENE_CLASSES,
  StreetSceneMetaSchema,
  type StreetSceneMeta
} from '@common/streetScenes'
import { isAppError } from '@common/errors'
import {
  generateStreetScene,
  generateStreetSceneArrays,
  generateStreetSceneBatch,
  streetSampleName,
  streetSceneSample,
  parseStreetScenesSpec,
  writeStreetSceneContactSheet,
  writeStreetScenes,
  type StreetSceneBatch
} from '@main/datasets/streetScenes'
import { createRng } from '@main/prng'
import { tempDir } from '../helpers/tempdir'

const C = STREET_CLASS
const H = 64
const W = 128
const PX = H * W
/** "Next to the figure": bicycle pixels within this many pixels (Chebyshev) of a rider's pixels. */
const NEAR = 3
const HIDDEN_RATE = 0.2
const N = 300

let batch: StreetSceneBatch
let genSeconds = 0

beforeAll(() => {
  const t0 = performance.now()
  batch = generateStreetSceneBatch({ seed: 11, hiddenBicycleRate: HIDDEN_RATE }, 'train', 0, N)
  genSeconds = (performance.now() - t0) / 1000
})

const labelsOf = (b: StreetSceneBatch, k: number): Uint8Array => b.labels.subarray(k * b.height * b.width, (k + 1) * b.height * b.width)
const instancesOf = (b: StreetSceneBatch, k: number): Uint8Array => b.instances.subarray(k * b.height * b.width, (k + 1) * b.height * b.width)

/** Pixels (indices) of one instance that carry the given class in the label map. */
function pixelsOf(label: Uint8Array, inst: Uint8Array, id: number, cls: number): number[] {
  const out: number[] = []
  for (let p = 0; p < label.length; p++) if (inst[p] === id && label[p] === cls) out.push(p)
  return out
}

/** How many pixels of class `cls` lie within `d` pixels (Chebyshev) of any of `pixels`. */
function classNear(label: Uint8Array, w: number, h: number, pixels: number[], cls: number, d: number): number {
  const seen = new Set<number>()
  for (const p of pixels) {
    const x = p % w
    const y = (p - x) / w
    for (let yy = Math.max(0, y - d); yy <= Math.min(h - 1, y + d); yy++) {
      for (let xx = Math.max(0, x - d); xx <= Math.min(w - 1, x + d); xx++) {
        const q = yy * w + xx
        if (label[q] === cls) seen.add(q)
      }
    }
  }
  return seen.size
}

/** 8-connected components of one class, as lists of pixel indices. */
function components(label: Uint8Array, w: number, h: number, cls: number): number[][] {
  const seen = new Uint8Array(label.length)
  const out: number[][] = []
  for (let start = 0; start < label.length; start++) {
    if (seen[start] || label[start] !== cls) continue
    const blob: number[] = []
    const stack = [start]
    seen[start] = 1
    while (stack.length) {
      const p = stack.pop()!
      blob.push(p)
      const x = p % w
      const y = (p - x) / w
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx
          const yy = y + dy
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue
          const q = yy * w + xx
          if (!seen[q] && label[q] === cls) {
            seen[q] = 1
            stack.push(q)
          }
        }
      }
    }
    out.push(blob)
  }
  return out
}

interface Figure {
  image: number
  meta: StreetSceneMeta
  instance: number
  kind: 'person' | 'rider'
  hidden: 'car' | 'border' | null | undefined
  pixels: number[]
  bikesNear: number
}

/** Every visible person and rider of the shared batch, with the bicycle pixels found next to it. */
function figures(): Figure[] {
  const out: Figure[] = []
  batch.meta.forEach((meta, k) => {
    const label = labelsOf(batch, k)
    const inst = instancesOf(batch, k)
    for (const o of meta.objects) {
      if (o.kind !== 'person' && o.kind !== 'rider') continue
      const pixels = pixelsOf(label, inst, o.instance, C[o.kind])
      if (pixels.length === 0) continue
      out.push({ image: k, meta, instance: o.instance, kind: o.kind, hidden: o.hidden, pixels, bikesNear: classNear(label, W, H, pixels, C.bicycle, NEAR) })
    }
  })
  return out
}

describe('street scenes: determinism and format', () => {
  it('gives the same bytes for the same seed, and different scenes for different seeds', () => {
    const a = generateStreetScene(createRng(1234), {})
    const b = generateStreetScene(createRng(1234), {})
    const c = generateStreetScene(createRng(1235), {})
    expect(Buffer.from(a.image).equals(Buffer.from(b.image))).toBe(true)
    expect(Buffer.from(a.label).equals(Buffer.from(b.label))).toBe(true)
    expect(Buffer.from(a.instances).equals(Buffer.from(b.instances))).toBe(true)
    expect(a.meta).toEqual(b.meta)
    expect(Buffer.from(a.image).equals(Buffer.from(c.image))).toBe(false)
  })

  it('makes image i the same whichever range it is generated in', async () => {
    const spec = { seed: 11, hiddenBicycleRate: HIDDEN_RATE }
    const part = generateStreetSceneBatch(spec, 'train', 7, 2)
    expect(Array.from(part.labels)).toEqual(Array.from(batch.labels.subarray(7 * PX, 9 * PX)))
    expect(Array.from(part.images.subarray(0, 3 * PX))).toEqual(Array.from(batch.images.subarray(7 * 3 * PX, 8 * 3 * PX)))
    const arrays = await generateStreetSceneArrays(spec, 'train', { start: 8, count: 1 })
    expect(Array.from(arrays.labels)).toEqual(Array.from(batch.labels.subarray(8 * PX, 9 * PX)))
    // Splits draw from separate streams.
    const val = generateStreetSceneBatch(spec, 'val', 7, 1)
    expect(Array.from(val.labels)).not.toEqual(Array.from(batch.labels.subarray(7 * PX, 8 * PX)))
  })

  it('returns NHWC images in [0, 1] and labels that only hold the 10 class ids', () => {
    expect(batch.images.length).toBe(N * PX * 3)
    expect(batch.labels.length).toBe(N * PX)
    let lo = Infinity
    let hi = -Infinity
    for (const v of batch.images) {
      lo = Math.min(lo, v)
      hi = Math.max(hi, v)
    }
    expect(lo).toBeGreaterThanOrEqual(0)
    expect(hi).toBeLessThanOrEqual(1)
    const ids = new Set(batch.labels)
    for (const id of ids) expect(id).toBeLessThan(STREET_SCENE_CLASSES.length)
    for (const m of batch.meta) expect(StreetSceneMetaSchema.safeParse(m).success).toBe(true)
  })

  it('rejects invalid options with the contract error', () => {
    let caught: unknown
    try {
      parseStreetScenesSpec({ hiddenBicycleRate: 1.5 })
    } catch (err) {
      caught = err
    }
    expect(isAppError(caught, 'INVALID_PARAMETERS')).toBe(true)
  })
})

describe('street scenes: what tells a rider from a person', () => {
  it('puts bicycle pixels next to every rider whose bicycle is shown, and none next to persons or hidden-bicycle riders', () => {
    const figs = figures()
    const visibleRiders = figs.filter((f) => f.kind === 'rider' && !f.hidden)
    const hiddenRiders = figs.filter((f) => f.kind === 'rider' && f.hidden)
    const persons = figs.filter((f) => f.kind === 'person')
    expect(visibleRiders.length).toBeGreaterThan(100)
    expect(hiddenRiders.length).toBeGreaterThan(20)
    expect(persons.length).toBeGreaterThan(100)
    expect(visibleRiders.filter((f) => f.bikesNear === 0).map((f) => `${f.image}/${f.instance}`)).toEqual([])
    expect(hiddenRiders.filter((f) => f.bikesNear > 0).map((f) => `${f.image}/${f.instance}`)).toEqual([])
    expect(persons.filter((f) => f.bikesNear > 0).map((f) => `${f.image}/${f.instance}`)).toEqual([])
    // The bicycle next to a shown rider is its own, and sizeable: not a stray pixel of a neighbour's.
    for (const f of visibleRiders) {
      const rider = f.meta.objects.find((o) => o.instance === f.instance)!
      const bike = f.meta.objects.find((o) => o.instance === rider.partner)!
      expect(bike.kind).toBe('bicycle')
      expect(bike.visiblePixels).toBeGreaterThanOrEqual(8)
    }
  })

  it('hides the bicycle of riders at the configured rate, by cars and by the bottom border', () => {
    const riders = figures().filter((f) => f.kind === 'rider')
    // Judged from pixels alone: a rider with no bicycle pixels next to it.
    const hiddenShare = riders.filter((f) => f.bikesNear === 0).length / riders.length
    expect(Math.abs(hiddenShare - HIDDEN_RATE)).toBeLessThan(0.07)
    let byCar = 0
    let byBorder = 0
    for (const f of riders.filter((r) => r.bikesNear === 0)) {
      const label = labelsOf(batch, f.image)
      const lowest = Math.max(...f.pixels.map((p) => Math.floor(p / W)))
      if (lowest === H - 1) byBorder++
      // Otherwise its lowest pixels must rest on a car: the car is what hides the bicycle.
      else if (classNear(label, W, H, f.pixels.filter((p) => Math.floor(p / W) === lowest), C.car, 1) > 0) byCar++
    }
    expect(byCar + byBorder).toBe(riders.filter((f) => f.bikesNear === 0).length)
    expect(byCar).toBeGreaterThan(5)
    expect(byBorder).toBeGreaterThan(5)
  })

  it('follows the configured rate when it changes', () => {
    const b = generateStreetSceneBatch({ seed: 5, hiddenBicycleRate: 0.6, riderFraction: 0.8 }, 'train', 0, 80)
    let riders = 0
    let hidden = 0
    b.meta.forEach((meta, k) => {
      for (const o of meta.objects.filter((ob) => ob.kind === 'rider' && ob.visiblePixels > 0)) {
        riders++
        const px = pixelsOf(labelsOf(b, k), instancesOf(b, k), o.instance, C.rider)
        if (classNear(labelsOf(b, k), W, H, px, C.bicycle, NEAR) === 0) hidden++
      }
    })
    expect(riders).toBeGreaterThan(80)
    expect(Math.abs(hidden / riders - 0.6)).toBeLessThan(0.12)
  })

  it('makes truncated persons and hidden-bicycle riders about equally frequent among figures without a bicycle', () => {
    const figs = figures()
    const truncatedPersons = figs.filter((f) => f.kind === 'person' && f.hidden).length
    const hiddenRiders = figs.filter((f) => f.kind === 'rider' && f.hidden).length
    // Persons outnumber them, so "no bicycle in sight" keeps meaning person most of the time.
    expect(truncatedPersons).toBeGreaterThan(hiddenRiders * 0.8)
    const riders = figs.filter((f) => f.kind === 'rider').length
    expect(figs.length / N).toBeGreaterThanOrEqual(1.5)
    expect(riders / figs.length).toBeGreaterThan(0.35)
    expect(riders / figs.length).toBeLessThan(0.65)
  })
})

describe('street scenes: layout', () => {
  it('stands cars on road', () => {
    // Per connected car blob: a far car may stand behind a near one, but the blob as a whole has to touch road.
    // Slivers of a few pixels, cut off by a figure standing in front, are left out.
    let blobs = 0
    const floating: string[] = []
    batch.meta.forEach((_, k) => {
      const label = labelsOf(batch, k)
      for (const blob of components(label, W, H, C.car)) {
        if (blob.length < 8) continue
        blobs++
        if (classNear(label, W, H, blob, C.road, 2) === 0) floating.push(`${k}@${blob[0]}`)
      }
    })
    expect(blobs).toBeGreaterThan(300)
    expect(floating).toEqual([])
  })

  it('stands persons on sidewalks and road alike, riders on the road', () => {
    let personSidewalk = 0
    let personRoad = 0
    let riderRoad = 0
    let riderOther = 0
    for (const f of figures().filter((g) => !g.hidden)) {
      const label = labelsOf(batch, f.image)
      // What the figure stands on: the ground under its lowest pixels (for a rider, under its bicycle's wheels).
      let px = f.pixels
      if (f.kind === 'rider') {
        const bike = f.meta.objects.find((o) => o.instance === f.meta.objects.find((r) => r.instance === f.instance)!.partner)!
        px = pixelsOf(label, instancesOf(batch, f.image), bike.instance, C.bicycle)
      }
      const lowest = Math.max(...px.map((p) => Math.floor(p / W)))
      if (lowest >= H - 1) continue
      for (const p of px.filter((q) => Math.floor(q / W) === lowest)) {
        const below = label[p + W]
        if (f.kind === 'person') {
          if (below === C.sidewalk) personSidewalk++
          else if (below === C.road) personRoad++
        } else if (below === C.road) riderRoad++
        else riderOther++
      }
    }
    // personOnRoadRate defaults to 0.5: about half the persons stand on the sidewalk (counted in pixel columns, so
    // near figures weigh more than far ones).
    const share = personSidewalk / (personSidewalk + personRoad)
    expect(share).toBeGreaterThan(0.3)
    expect(share).toBeLessThan(0.7)
    expect(riderRoad / (riderRoad + riderOther)).toBeGreaterThan(0.9)
  })

  it('puts sky at the top and the ground below the horizon', () => {
    const topRow = new Array<number>(STREET_SCENE_CLASSES.length).fill(0)
    let skyBelowHorizon = 0
    let groundAboveHorizon = 0
    batch.meta.forEach((meta, k) => {
      const label = labelsOf(batch, k)
      for (let p = 0; p < PX; p++) {
        const y = Math.floor(p / W) + 0.5
        if (label[p] === C.sky && y > meta.horizonY + 0.5) skyBelowHorizon++
        if ((label[p] === C.road || label[p] === C.sidewalk) && y < meta.horizonY) groundAboveHorizon++
      }
      for (let x = 0; x < W; x++) topRow[label[x]]++
    })
    expect(skyBelowHorizon).toBe(0)
    expect(groundAboveHorizon).toBe(0)
    const total = N * W
    expect(topRow[C.sky] / total).toBeGreaterThan(0.3)
    expect(topRow[C.road] + topRow[C.sidewalk] + topRow[C.car] + topRow[C.bicycle]).toBe(0)
  })

  it('sizes figures 12–24 px tall at 64 rows, and twice that at 128 rows', () => {
    const heights: number[] = []
    for (const f of figures().filter((g) => !g.hidden && g.kind === 'person')) {
      const rows = f.pixels.map((p) => Math.floor(p / W))
      heights.push(Math.max(...rows) - Math.min(...rows) + 1)
    }
    heights.sort((a, b) => a - b)
    const q = (s: number): number => heights[Math.floor(s * (heights.length - 1))]
    expect(q(0.1)).toBeGreaterThanOrEqual(10)
    expect(q(0.9)).toBeLessThanOrEqual(27)

    // The same seeds at double size give the same scenes: labels agree after 2× downsampling.
    const big = generateStreetSceneBatch({ seed: 11, hiddenBicycleRate: HIDDEN_RATE, height: 128, width: 256 }, 'train', 0, 6)
    let agree = 0
    for (let k = 0; k < 6; k++) {
      const small = labelsOf(batch, k)
      const large = labelsOf(big, k)
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (large[2 * y * 256 + 2 * x + 1 + 256] === small[y * W + x]) agree++
    }
    expect(agree / (6 * PX)).toBeGreaterThan(0.9)
  })

  it('has class pixel frequencies in street-like ranges', () => {
    const counts = new Array<number>(STREET_SCENE_CLASSES.length).fill(0)
    for (const v of batch.labels) counts[v]++
    const freq = Object.fromEntries(STREET_SCENE_CLASSES.map((c) => [c.name, counts[c.id] / batch.labels.length]))
    console.log(
      `street scenes: ${N} images ${W}×${H} in ${genSeconds.toFixed(1)} s (${(N / genSeconds).toFixed(0)} images/s); class frequencies: ` +
        Object.entries(freq).map(([k, v]) => `${k} ${(100 * v).toFixed(2)}%`).join(', ')
    )
    const ranges: Record<string, [number, number]> = {
      road: [0.08, 0.4],
      sidewalk: [0.05, 0.3],
      building: [0.15, 0.5],
      vegetation: [0.03, 0.25],
      sky: [0.05, 0.3],
      car: [0.02, 0.15],
      person: [0.003, 0.03],
      rider: [0.003, 0.03],
      bicycle: [0.002, 0.03],
      pole: [0.002, 0.03]
    }
    for (const [name, [lo, hi]] of Object.entries(ranges)) {
      expect(freq[name], name).toBeGreaterThanOrEqual(lo)
      expect(freq[name], name).toBeLessThanOrEqual(hi)
    }
  })
})

describe('street scenes: on disk', () => {
  const tmp = tempDir('ctxlens-street-')
  afterAll(() => tmp.cleanup())

  it('writes the generic folder layout, and its PNGs read back to the same ids and colours', async () => {
    const outDir = join(tmp.path, 'ds')
    const spec = { seed: 3, counts: { train: 4, val: 2, test: 2 } }
    const summary = await writeStreetScenes({ ...spec, outDir })
    expect(summary.counts).toEqual({ train: 4, val: 2, test: 2 })
    const classes = JSON.parse(readFileSync(join(outDir, 'classes.json'), 'utf8'))
    expect(classes).toEqual({ classes: STREET_SCENE_CLASSES, ignoreIds: [255] })
    const dataset = JSON.parse(readFileSync(join(outDir, 'dataset.json'), 'utf8'))
    expect(dataset.counts).toEqual({ train: 4, val: 2, test: 2 })
    expect(dataset.options.seed).toBe(3)
    const parsed = parseStreetScenesSpec(spec)
    for (const [split, index] of [['train', 3], ['val', 1], ['test', 0]] as const) {
      const name = streetSampleName(index)
      expect(name).toBe(`0000${index}`)
      const expected = streetSceneSample(parsed, split, index)
      const labelPath = join(outDir, 'labels', split, `${name}.png`)
      // One channel on disk; sharp widens greyscale to RGB when decoding, hence extractChannel.
      expect((await sharp(labelPath).metadata()).channels).toBe(1)
      const label = await sharp(labelPath).extractChannel(0).raw().toBuffer()
      expect(Buffer.from(label).equals(Buffer.from(expected.label))).toBe(true)
      const inst = await sharp(join(outDir, 'instances', split, `${name}.png`)).extractChannel(0).raw().toBuffer()
      expect(Buffer.from(inst).equals(Buffer.from(expected.instances))).toBe(true)
      const image = await sharp(join(outDir, 'images', split, `${name}.png`)).raw().toBuffer({ resolveWithObject: true })
      expect([image.info.width, image.info.height, image.info.channels]).toEqual([W, H, 3])
      expect(Buffer.from(image.data).equals(Buffer.from(expected.image))).toBe(true)
      const meta = JSON.parse(readFileSync(join(outDir, 'meta', split, `${name}.json`), 'utf8'))
      expect(meta).toEqual(expected.meta)
    }
    await expect(writeStreetScenes({ ...spec, outDir })).rejects.toMatchObject({ code: 'CONFLICT' })
  })

  it('writes a contact sheet of images above their colourised labels', async () => {
    const path = tmp.file('sheet.png')
    await writeStreetSceneContactSheet(path, {}, { count: 16, columns: 4, zoom: 2 })
    const info = await sharp(path).metadata()
    expect(info.width).toBe(4 * (W * 2 + 4) + 4)
    expect(info.height).toBe(4 * (2 * H * 2 + 4) + 4)
    expect(statSync(path).size).toBeGreaterThan(10_000)
  })
})
