import { ref, shallowRef } from 'vue'
import { describe, expect, it } from 'vitest'
import { NO_CLASS } from '@renderer/viewer/planes'
import { maskBox, useRequestEditor, type RequestSegment } from '@renderer/viewer/requestEditor'

const W = 10
const H = 8
/** A filled box as a segment: its crop mask all ones. */
function box(id: number, [x, y, w, h]: [number, number, number, number], gtClass: number | null, predClass: number | null): RequestSegment {
  return { id, area: w * h, bbox: [x, y, w, h], mask: new Uint8Array(w * h).fill(1), gtClass, predClass }
}
// A rider (class 7, predicted as person 6) inside a road region (class 0); a car (class 2) apart.
const road = box(1, [0, 0, 6, 8], 0, 0)
const rider = box(2, [1, 1, 2, 3], 7, 6)
const car = box(3, [7, 5, 3, 3], 2, null)

function setup(labels: Uint8Array | null = new Uint8Array(W * H).fill(NO_CLASS)) {
  const requestClass = ref<number | null>(null)
  const editor = useRequestEditor({ width: ref(W), height: ref(H), segments: shallowRef([road, rider, car]), labels: shallowRef(labels), requestClass })
  return { editor, requestClass }
}

describe('the request editor of the image view', () => {
  it('picks the smallest segment under the pointer, adds and removes with shift, and explains the first one picked', () => {
    const { editor, requestClass } = setup()
    editor.onDown({ x: 1, y: 1, shift: false })
    expect(editor.selected.value).toEqual([rider.id])
    expect(editor.requestArea.value).toBe(6)
    // A picked segment is explained for what the model predicts there, else its ground truth.
    expect(requestClass.value).toBe(6)
    editor.onDown({ x: 8, y: 6, shift: true })
    expect(editor.selected.value).toEqual([rider.id, car.id])
    expect(editor.requestArea.value).toBe(15)
    expect(editor.requestBox()).toEqual([1, 1, 9, 7])
    editor.onDown({ x: 1, y: 1, shift: true })
    expect(editor.selected.value).toEqual([car.id])
    expect(requestClass.value).toBe(2)
    // Shift-clicking nothing keeps the picks; a plain click on nothing clears them.
    editor.onDown({ x: 6, y: 0, shift: true })
    expect(editor.selected.value).toEqual([car.id])
    editor.onDown({ x: 6, y: 0, shift: false })
    expect(editor.selected.value).toEqual([])
    expect(editor.requestMask.value).toBeNull()
    expect(editor.requestBox()).toBeNull()
  })

  it('touches up a picked segment with the brush and eraser, in place, bumping the version each stroke', () => {
    const { editor } = setup()
    editor.onDown({ x: 1, y: 1, shift: false })
    editor.tool.value = 'brush'
    editor.brushRadius.value = 1
    editor.onDown({ x: 5, y: 5, shift: false })
    editor.onDrag({ x: 5, y: 7 })
    editor.onUp()
    const drawn = editor.drawn.value!
    expect(editor.requestMask.value).toBe(drawn)
    expect(drawn[1 * W + 1]).toBe(1) // the picked rider is kept
    expect(drawn[6 * W + 5]).toBe(1) // and the stroke between the two positions is painted
    expect(editor.drawVersion.value).toBe(2)
    const painted = editor.requestArea.value
    editor.tool.value = 'eraser'
    editor.onDown({ x: 1, y: 1, shift: false })
    editor.onUp()
    expect(editor.drawn.value).toBe(drawn)
    expect(drawn[1 * W + 1]).toBe(0)
    expect(editor.requestArea.value).toBeLessThan(painted)
    // A drag after the pointer is up paints nothing.
    editor.onDrag({ x: 9, y: 0 })
    expect(drawn[9]).toBe(0)
  })

  it('fills a closed polygon of three corners or more, and takes the class under its first corner when none is set', () => {
    const labels = new Uint8Array(W * H).fill(NO_CLASS)
    labels[2 * W + 2] = 11
    const { editor, requestClass } = setup(labels)
    editor.tool.value = 'polygon'
    editor.onDown({ x: 2, y: 2, shift: false })
    editor.onDown({ x: 6, y: 2, shift: false })
    editor.closePolygon()
    expect(editor.polygon.value).toHaveLength(2)
    expect(editor.requestMask.value).toBeNull()
    editor.onDown({ x: 6, y: 6, shift: false })
    editor.onDown({ x: 2, y: 6, shift: false })
    expect(requestClass.value).toBe(11)
    editor.closePolygon()
    expect(editor.polygon.value).toEqual([])
    expect(editor.requestBox()).toEqual([2, 2, 4, 4])
    expect(editor.requestArea.value).toBe(16)
    editor.clearRequest()
    expect(editor.requestMask.value).toBeNull()
  })

  it('finds the bounding box of a mask', () => {
    const m = new Uint8Array(W * H)
    expect(maskBox(m, W)).toBeNull()
    m[3 * W + 4] = 1
    m[5 * W + 2] = 1
    expect(maskBox(m, W)).toEqual([2, 3, 3, 3])
  })
})
