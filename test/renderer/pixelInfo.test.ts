// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { ClassDef } from '@common/types'
import PixelInfoLine from '@renderer/components/viewer/PixelInfoLine.vue'
import { NO_CLASS } from '@renderer/viewer/planes'
import { pixelInfo } from '@renderer/viewer/pixelInfo'

const classes: ClassDef[] = [
  { id: 0, name: 'road', color: [128, 64, 128] },
  { id: 7, name: 'rider', color: [255, 0, 0] }
]
// 3×2 image: a rider segment on the middle column of the top row, inside a road segment covering the top row.
const gt = new Uint8Array([0, 7, 0, 0, NO_CLASS, 0])
const pred = new Uint8Array([0, 0, 0, 0, 0, 0])
const segments = [
  { id: 1, kind: 'correct', area: 3, bbox: [0, 0, 3, 1] as [number, number, number, number], mask: new Uint8Array([1, 1, 1]) },
  { id: 2, kind: 'misclassified', area: 1, bbox: [1, 0, 1, 1] as [number, number, number, number], mask: new Uint8Array([1]) }
]

describe('what lies under the pointer', () => {
  it('names both classes and the segment a click would pick, the smallest one there', () => {
    expect(pixelInfo({ x: 1, y: 0 }, { width: 3, classes, gt, pred, segments })).toEqual({ x: 1, y: 0, gt: 'rider', pred: 'road', segment: 'misclassified #2' })
    expect(pixelInfo({ x: 1, y: 1 }, { width: 3, classes, gt, pred: null, segments })).toEqual({ x: 1, y: 1, gt: '—', pred: null, segment: null })
  })

  it('is shown as a line under the canvas, with a hint while the pointer is off the image', async () => {
    const w = mount(PixelInfoLine, { props: { info: null } })
    expect(w.text()).toContain('Point at the image')
    await w.setProps({ info: pixelInfo({ x: 1, y: 0 }, { width: 3, classes, gt, pred, segments }) })
    const spans = w.get('[data-testid="hover-info"]').findAll('span').map((s) => s.text())
    expect(w.get('[data-testid="hover-info"]').text()).toMatch(/^\(1, 0\)/)
    expect(spans).toEqual(['ground truth: rider', 'prediction: road', 'segment misclassified #2'])
  })
})
