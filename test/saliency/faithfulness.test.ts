import { describe, expect, it } from 'vitest'
import { deletionFaithfulness, type SaliencyMap } from '../../src/main/saliency'
import { contextCells } from '../../src/main/saliency/faithfulness'
import type { BatchGeometry, SegmentationModel } from '../../src/main/saliency/model'
import { image, rectMask, sigmoid } from './models'

/**
 * A hand-built model in plain arrays: the class-1 probability at every pixel is σ(a·μ + b), μ the mean of the
 * top-left 2×2 pixels of the image. On an 8×8 image with a 4×4 map, that is exactly map cell 0: the request's
 * score rests on one known context cell and on nothing else. Every predict call is recorded.
 */
function oneCellModel(a = 8, b = -4) {
  const calls: { images: Float32Array; geometry: BatchGeometry }[] = []
  const model: SegmentationModel = {
    inputShape: [8, 8, 1],
    numClasses: 2,
    inputRange: [0, 1],
    async predict(images, geometry) {
      calls.push({ images: images.slice(), geometry })
      const { batch, height, width } = geometry
      const out = new Float32Array(batch * height * width * 2)
      for (let i = 0; i < batch; i++) {
        const at = (y: number, x: number) => images[i * height * width + y * width + x]
        const p = sigmoid(a * ((at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4) + b)
        for (let q = 0; q < height * width; q++) {
          out[(i * height * width + q) * 2] = 1 - p
          out[(i * height * width + q) * 2 + 1] = p
        }
      }
      return out
    },
    perturbationStep: () => Promise.reject(new Error('not used')),
    scoreGradient: () => Promise.reject(new Error('not used')),
    dispose: () => {}
  }
  return { model, calls }
}

const H = 8
const W = 8
const bright = image(H, W, () => 1)
/** R = the bottom-right 2×2 pixels = map cell 15; the 15 other cells are context. */
const request = rectMask(H, W, 6, 8, 6, 8)
const req = { image: bright, request, classId: 1 }
/** A 4×4 map with cell 0 at rank `rank` among the context cells (0 = most salient) and cell 15 (R) on top. */
function mapRanking(rank: number): SaliencyMap {
  const values = new Float32Array(16)
  const others = Array.from({ length: 14 }, (_, i) => i + 1)
  // Context cells other than 0 get distinct values 14…1; cell 0 is slotted in at `rank`.
  others.forEach((c, i) => (values[c] = 100 - (i < rank ? i : i + 1)))
  values[0] = 100 - rank
  values[15] = 1000
  return { values, height: 4, width: 4 }
}

describe('deletion faithfulness', () => {
  it('counts as context only the cells with pixels outside the request', () => {
    const { cells, pixels } = contextCells(request, H, W, { height: 4, width: 4 })
    expect(cells).toEqual(Array.from({ length: 15 }, (_, i) => i))
    expect(pixels[0]).toEqual([0, 1, 8, 9])
    // A request over half a cell leaves that cell's other half as context.
    const half = contextCells(rectMask(H, W, 0, 1, 0, 2), H, W, { height: 4, width: 4 })
    expect(half.cells).toHaveLength(16)
    expect(half.pixels[0]).toEqual([8, 9])
  })

  it('is high for a map that ranks the one decisive context cell first, in one batched predict', async () => {
    const { model, calls } = oneCellModel()
    const f = await deletionFaithfulness(model, req, mapRanking(0), { randomOrders: 20 })
    expect(calls).toHaveLength(1)
    expect(calls[0].geometry.batch).toBe(f.images)
    expect(f.contextCells).toBe(15)
    expect(f.salient[0]).toBeCloseTo(sigmoid(4), 6)
    // Cell 0 goes in the first step (2 of 15 cells): the score is down to σ(−4) from there on.
    expect(f.salient.slice(1).every((s) => Math.abs(s - sigmoid(-4)) < 1e-6)).toBe(true)
    expect(f.fractions[0]).toBe(0)
    expect(f.fractions.at(-1)).toBe(1)
    expect(f.value!).toBeGreaterThan(0.6)
    expect(f.value!).toBeLessThanOrEqual(1)
    // All orders end with all context removed.
    expect(f.random.at(-1)).toBeCloseTo(f.salient.at(-1)!, 9)
    // The random level is the mean of its orders' areas.
    expect(f.aucRandom!).toBeCloseTo(f.randomAucs.reduce((a, b) => a + b, 0) / f.randomAucs.length, 9)
  })

  it('is high with the default three random orders too', async () => {
    const { model } = oneCellModel()
    for (const seed of [0, 1, 2]) {
      const f = await deletionFaithfulness(model, req, mapRanking(0), { seed })
      expect(f.params).toMatchObject({ steps: 8, randomOrders: 3 })
      expect(f.value!).toBeGreaterThan(0)
    }
  })

  it('is at most 0 for a map that ranks the decisive cell last', async () => {
    const { model } = oneCellModel()
    for (const seed of [0, 1, 2]) {
      const f = await deletionFaithfulness(model, req, mapRanking(14), { seed })
      // The score holds until the last step, later than in any order: no random order can do worse.
      expect(f.salient.slice(0, -1).every((s) => Math.abs(s - sigmoid(4)) < 1e-6)).toBe(true)
      expect(f.value!).toBeLessThanOrEqual(1e-12)
    }
    const many = await deletionFaithfulness(model, req, mapRanking(14), { randomOrders: 20 })
    expect(many.value!).toBeLessThan(-0.5)
  })

  it('is 0 for a constant map: ties are broken by the random orders', async () => {
    const { model } = oneCellModel()
    const f = await deletionFaithfulness(model, req, { values: new Float32Array(16).fill(0.3), height: 4, width: 4 })
    expect(f.value).toBe(0)
    expect(f.salient).toEqual(f.random)
  })

  it('never perturbs the request region, and removed context shows the baseline', async () => {
    const { model, calls } = oneCellModel()
    const f = await deletionFaithfulness(model, req, mapRanking(3), { baseline: { kind: 'constant', value: 0.25 } })
    const { batch, height, width } = calls[0].geometry
    const hw = height * width
    let changed = 0
    for (let i = 0; i < batch; i++) {
      for (let p = 0; p < hw; p++) {
        const v = calls[0].images[i * hw + p]
        if (request[p]) expect(v).toBe(1)
        else if (v !== 1) {
          expect(v).toBe(0.25)
          changed++
        }
      }
    }
    expect(changed).toBeGreaterThan(0)
    // The unperturbed image and the fully removed context are among the images, each once.
    const all = calls[0].images
    const full = Array.from({ length: batch }, (_, i) => all.subarray(i * hw, (i + 1) * hw)).filter((img) => img.every((v, p) => (request[p] ? v === 1 : v === 0.25)))
    expect(full).toHaveLength(1)
    expect(f.images).toBe(batch)
  })

  it('measures a gradient-style map at another resolution the same way', async () => {
    const { model } = oneCellModel()
    // 8×8 map (one pixel per cell): the four pixels of the decisive block first.
    const values = new Float32Array(64)
    for (const p of [0, 1, 8, 9]) values[p] = 5
    const f = await deletionFaithfulness(model, req, { values, height: 8, width: 8 }, { randomOrders: 10 })
    expect(f.contextCells).toBe(60)
    expect(f.value!).toBeGreaterThan(0.5)
  })

  it('has no figure when the request leaves no context', async () => {
    const { model, calls } = oneCellModel()
    const f = await deletionFaithfulness(model, { ...req, request: new Uint8Array(64).fill(1) }, mapRanking(0))
    expect(f.contextCells).toBe(0)
    expect(f.value).toBeNull()
    expect(f.salient).toHaveLength(1)
    expect(calls).toHaveLength(1)
  })
})
