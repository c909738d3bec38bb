import { describe, expect, it } from 'vitest'
import { compareMasks, contextCells, isConstant, pearson, ranks, spearman } from '@main/metrics/maskSimilarity'
import { uniform01 } from '@main/prng'

const randomMask = (n: number, seed: number): Float32Array => {
  const u = uniform01(seed)
  return Float32Array.from({ length: n }, () => u())
}

describe('mask similarity', () => {
  it('ranks ties by the mean of their positions', () => {
    expect(Array.from(ranks([3, 1, 2, 2]))).toEqual([4, 1, 2.5, 2.5])
  })

  it("gives the textbook Spearman value (Wikipedia's IQ / TV hours example: ρ = −29/165)", () => {
    const iq = [106, 86, 100, 101, 99, 103, 97, 113, 112, 110]
    const tv = [7, 0, 27, 50, 28, 29, 20, 12, 6, 17]
    expect(spearman(iq, tv)!).toBeCloseTo(-29 / 165, 10)
  })

  it('is 1 for identical masks, 1 in rank for a monotone rescaling, and −1 for a reversed order', () => {
    const a = randomMask(256, 1)
    expect(spearman(a, a)).toBeCloseTo(1, 12)
    expect(pearson(a, a)).toBeCloseTo(1, 12)
    const squared = a.map((v) => v * v)
    expect(spearman(a, squared)).toBeCloseTo(1, 12)
    expect(pearson(a, squared)!).toBeLessThan(0.99)
    expect(spearman(a, a.map((v) => -v))).toBeCloseTo(-1, 12)
  })

  it('is about 0 for independent random masks', () => {
    const rhos = Array.from({ length: 200 }, (_, k) => spearman(randomMask(256, 100 + k), randomMask(256, 10_000 + k))!)
    const mean = rhos.reduce((a, b) => a + b, 0) / rhos.length
    // Under independence ρ has standard deviation 1/√255 ≈ 0.063 per pair, 0.0044 for the mean of 200.
    expect(Math.abs(mean)).toBeLessThan(0.02)
    expect(Math.max(...rhos.map(Math.abs))).toBeLessThan(0.3)
  })

  it('has no correlation for a constant side, and tells constant masks apart at their own scale', () => {
    expect(pearson([1, 2, 3], [5, 5, 5])).toBeNull()
    expect(isConstant(new Float32Array(10))).toBe(true)
    expect(isConstant([1e-9, 2e-9, 1e-9])).toBe(false)
    expect(isConstant([0.3, 0.3 + 1e-9])).toBe(true)
  })

  it('marks the cells that hold a request pixel', () => {
    // 8×8 image, 4×4 cells of 2×2 px; request pixels (2,2) and (7,0).
    const request = new Uint8Array(64)
    request[2 * 8 + 2] = 1
    request[7 * 8 + 0] = 1
    const keep = contextCells(request, 8, 8, 4, 4)
    expect(Array.from(keep).flatMap((v, i) => (v ? [] : [i]))).toEqual([1 * 4 + 1, 3 * 4 + 0])
  })

  it('leaves out the request cells, which would make unrelated masks agree', () => {
    // Two masks independent in the context, both zero on a request covering half the cells (what every context
    // method returns there): over all cells they correlate strongly, over the context alone they do not.
    const n = 256
    const request = new Uint8Array(n).map((_, i) => (i < n / 2 ? 1 : 0))
    const a = randomMask(n, 7).map((v, i) => (request[i] ? 0 : 0.5 + v))
    const b = randomMask(n, 8).map((v, i) => (request[i] ? 0 : 0.5 + v))
    expect(compareMasks(a, b)!.spearman).toBeGreaterThan(0.7)
    const keep = request.map((v) => 1 - v)
    expect(Math.abs(compareMasks(a, b, keep)!.spearman)).toBeLessThan(0.25)
  })

  it('counts a collapsed mask as correlation 0 and has nothing to compare when the reference is constant', () => {
    const a = randomMask(64, 3)
    expect(compareMasks(a, new Float32Array(64))).toEqual({ spearman: 0, pearson: 0, collapsed: true })
    expect(compareMasks(new Float32Array(64), a)).toBeNull()
    // Absolute values: a sign flip is the same saliency.
    expect(compareMasks(a, a.map((v) => -v))!.spearman).toBeCloseTo(1, 12)
  })
})
