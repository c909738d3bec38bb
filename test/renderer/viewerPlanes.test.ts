import { describe, expect, it } from 'vitest'
import { queryFromState, stateFromQuery, visibleRows } from '@renderer/viewer/browserQuery'
import { maskFromRuns, maskToRuns, runsArea } from '@common/maskRuns'
import { colourLabels, fillPolygon, outline, paintStroke, requestOverlay, saliencyOverlay, segmentAt, unionMask } from '@renderer/viewer/planes'

const grid = (w: number, h: number, rows: string[]) => {
  const m = new Uint8Array(w * h)
  rows.forEach((r, y) => [...r].forEach((c, x) => (m[y * w + x] = c === '#' ? 1 : 0)))
  return m
}

describe('overlay planes', () => {
  it('colours labels by class and leaves ignored pixels transparent', () => {
    const rgba = colourLabels(new Uint8Array([0, 7, 255]), [{ id: 0, name: 'road', color: [128, 64, 128] }, { id: 7, name: 'rider', color: [255, 0, 0] }], 0.5)
    expect(Array.from(rgba)).toEqual([128, 64, 128, 128, 255, 0, 0, 128, 0, 0, 0, 0])
  })

  it('paints saliency as red whose opacity is the saliency times the layer opacity', () => {
    expect(Array.from(saliencyOverlay(new Uint8Array([0, 255, 100]), 0.5))).toEqual([255, 0, 0, 0, 255, 0, 0, 128, 255, 0, 0, 50])
  })

  it('outlines the request on its border pixels only, in solid blue', () => {
    const m = grid(5, 5, ['.....', '.###.', '.###.', '.###.', '.....'])
    const edge = outline(m, 5, 5)
    expect(edge[2 * 5 + 2]).toBe(0)
    expect(edge.reduce((a, b) => a + b, 0)).toBe(8)
    const rgba = requestOverlay(m, 5, 5, 0)
    expect(Array.from(rgba.subarray((1 * 5 + 1) * 4, (1 * 5 + 1) * 4 + 4))).toEqual([30, 90, 255, 255])
    expect(rgba[(2 * 5 + 2) * 4 + 3]).toBe(0)
  })

  it('encodes a mask as runs the service can rebuild', () => {
    const mask = grid(4, 2, ['.##.', '###.'])
    expect(maskToRuns(mask)).toEqual([1, 2, 4, 3])
    expect(maskFromRuns([1, 2, 4, 3], 4, 2)).toEqual(mask)
    expect(runsArea([1, 2, 4, 3])).toBe(5)
    expect(maskToRuns(new Uint8Array(8))).toEqual([])
    expect(() => maskFromRuns([6, 3], 4, 2)).toThrow(/outside the 4×2 image/)
  })

  it('brushes a connected stroke, erases, and fills polygons by pixel centres', () => {
    const m = new Uint8Array(20 * 10)
    paintStroke(m, 20, 10, [2, 5], [17, 5], 1, 1)
    for (let x = 2; x <= 17; x++) expect(m[5 * 20 + x]).toBe(1)
    paintStroke(m, 20, 10, [10, 5], [10, 5], 1, 0)
    expect(m[5 * 20 + 10]).toBe(0)
    const p = new Uint8Array(10 * 10)
    fillPolygon(p, 10, 10, [[2, 2], [8, 2], [8, 8], [2, 8]])
    expect(p.reduce((a, b) => a + b, 0)).toBe(36)
    expect(p[1 * 10 + 1]).toBe(0)
    // Half-open on both axes: corners at pixel centres take 3×3 pixels, not 4 rows by 3 or 3 by 4.
    const q = new Uint8Array(10 * 10)
    fillPolygon(q, 10, 10, [[2.5, 2.5], [5.5, 2.5], [5.5, 5.5], [2.5, 5.5]])
    expect(q.reduce((a, b) => a + b, 0)).toBe(9)
  })

  it('picks the smallest segment under the pointer, so nested segments stay reachable', () => {
    const big = { id: 1, area: 16, bbox: [0, 0, 4, 4] as [number, number, number, number], mask: new Uint8Array(16).fill(1) }
    const small = { id: 2, area: 1, bbox: [1, 1, 1, 1] as [number, number, number, number], mask: new Uint8Array([1]) }
    expect(segmentAt([big, small], 1, 1)?.id).toBe(2)
    expect(segmentAt([big, small], 3, 3)?.id).toBe(1)
    expect(segmentAt([big, small], 5, 5)).toBeNull()
    expect(unionMask([small], 4, 4)[5]).toBe(1)
  })
})

describe('browser state in the URL', () => {
  it('round-trips every filter through the query', () => {
    const state = { sort: 'errors' as const, descending: true, datasetId: 2, modelId: 3, split: 'val', search: 'aachen', classes: [6, 7], error: { gt: 7, pred: 6 }, bookmarked: true, explained: false }
    const query = queryFromState(state)
    expect(query).toMatchObject({ error: '7-6', classes: '6,7', bookmarked: '1', explained: '0', sort: 'errors', desc: '1' })
    expect(stateFromQuery(query)).toEqual(state)
  })

  it('drops malformed values instead of failing', () => {
    expect(stateFromQuery({ sort: 'drop table', dataset: 'x', error: '7-', classes: 'a,3' })).toEqual({ sort: 'id', descending: false, classes: [3] })
  })

  it('renders only the rows in view plus overscan', () => {
    expect(visibleRows(0, 600, 150, 2000)).toEqual({ first: 0, last: 6 })
    expect(visibleRows(150 * 1000, 600, 150, 2000)).toEqual({ first: 998, last: 1006 })
    expect(visibleRows(150 * 1998, 600, 150, 2000).last).toBe(1999)
  })
})
