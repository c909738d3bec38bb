import { describe, expect, it } from 'vitest'
import { tileMask } from '@main/datasets/textureMnist'
import { contextBias } from '@main/metrics'

/*
 * 4×4 image, object R_GT = the centre 2×2 block, so the context C has 12 pixels: 6 in the upper half, 6 in the
 * lower half, 3 in each quadrant.
 *   . . . .
 *   . R R .
 *   . R R .
 *   . . . .
 */
const object = Uint8Array.from([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0])
const upper = tileMask('halves', 0, 4)
const lower = tileMask('halves', 1, 4)
const map = (values: Record<number, number>, fill = 0): Float32Array => {
  const m = new Float32Array(16).fill(fill)
  for (const [p, v] of Object.entries(values)) m[Number(p)] = v
  return m
}

describe('context bias detection and localisation (Eq. 6–7)', () => {
  it('uniform saliency: CBD is its level, CBL the bias tile’s share of the context', () => {
    const r = contextBias(map({}, 1), object, upper)
    expect(r.cbd).toBeCloseTo(1, 12)
    expect(r.cbl).toBeCloseTo(6 / 12, 12)
    const weak = contextBias(map({}, 0.3), object, lower)
    expect(weak.cbd).toBeCloseTo(0.3, 6)
    expect(weak.cbl).toBeCloseTo(0.5, 6)
    // A quadrant holds 3 of the 12 context pixels.
    expect(contextBias(map({}, 1), object, tileMask('quadrants', 0, 4)).cbl).toBeCloseTo(3 / 12, 12)
  })

  it('all saliency in the bias tile gives CBL 1, even where the tile overlaps the object', () => {
    // Whole upper half salient: 6 context pixels plus 2 object pixels; the object pixels are not context.
    const r = contextBias(map({}, 0).map((_, p) => (p < 8 ? 1 : 0)), object, upper)
    expect(r.cbl).toBe(1)
    expect(r.cbd).toBeCloseTo(6 / 12, 12)
    expect(contextBias(map({}, 0).map((_, p) => (p < 8 ? 1 : 0)), object, lower).cbl).toBe(0)
  })

  it('matches a hand-computed uneven map', () => {
    // 0.5 at (0,0) [upper context], 1 at (3,3) [lower context], 0.8 on the object at (1,1) [not context].
    const r = contextBias(map({ 0: 0.5, 15: 1, 5: 0.8 }), object, upper)
    expect(r.contextSaliency).toBeCloseTo(1.5, 6)
    expect(r.contextArea).toBe(12)
    expect(r.cbd).toBeCloseTo(1.5 / 12, 6)
    expect(r.cbl).toBeCloseTo(0.5 / 1.5, 6)
  })

  it('leaves CBL undefined when no saliency falls on the context or there is no bias tile', () => {
    const onlyObject = contextBias(map({ 5: 1, 6: 1 }), object, upper)
    expect(onlyObject.cbd).toBe(0)
    expect(onlyObject.cbl).toBeNull()
    expect(contextBias(map({}, 1), object, null).cbl).toBeNull()
    // An object covering the whole image has no context: neither metric is defined.
    const whole = contextBias(map({}, 1), new Uint8Array(16).fill(1), upper)
    expect([whole.cbd, whole.cbl]).toEqual([null, null])
  })

  it('rejects masks of another size', () => {
    expect(() => contextBias(new Float32Array(16), new Uint8Array(9), null)).toThrow(
      expect.objectContaining({ code: 'REQUEST_SIZE_MISMATCH' })
    )
  })
})
