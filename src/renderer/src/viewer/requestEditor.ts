import { computed, ref, shallowRef, type Ref } from 'vue'
import { fillPolygon, NO_CLASS, paintStroke, segmentAt, unionMask, type PickableSegment } from './planes'

export type Tool = 'pick' | 'brush' | 'eraser' | 'polygon' | 'pan'

/** A segment a click can pick, with the classes a picked request is explained for. */
export interface RequestSegment extends PickableSegment {
  gtClass: number | null
  predClass: number | null
}

export interface RequestEditorInputs<S extends RequestSegment> {
  width: Readonly<Ref<number>>
  height: Readonly<Ref<number>>
  segments: Readonly<Ref<S[]>>
  /** Per pixel, the class a drawn request starts from: the prediction, else the ground truth. */
  labels: Readonly<Ref<Uint8Array | null>>
  /** The class to explain: set by a pick, or by where drawing begins when none is chosen yet. */
  requestClass: Ref<number | null>
}

/** The bounding box [x, y, w, h] of a mask's pixels, or null for an empty mask. */
export function maskBox(mask: Uint8Array, width: number): [number, number, number, number] | null {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1]
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue
    const x = i % width
    const y = (i - x) / width
    if (x < x0) x0 = x
    if (x > x1) x1 = x
    if (y < y0) y0 = y
    if (y > y1) y1 = y
  }
  return x1 < 0 ? null : [x0, y0, x1 - x0 + 1, y1 - y0 + 1]
}

/**
 * The request being edited on the image view: picked segments, or a mask painted with the brush and eraser or filled
 * from a polygon. The canvas reports pixels; this turns them into the request mask.
 */
export function useRequestEditor<S extends RequestSegment>(i: RequestEditorInputs<S>) {
  const tool = ref<Tool>('pick')
  const brushRadius = ref(3)
  const selected = ref<number[]>([])
  const drawn = shallowRef<Uint8Array | null>(null)
  const drawVersion = ref(0)
  const polygon = ref<[number, number][]>([])

  /** The request: a mask drawn by hand when there is one, else the union of the picked segments. */
  const requestMask = computed<Uint8Array | null>(() => {
    void drawVersion.value
    if (drawn.value) return drawn.value
    const picked = i.segments.value.filter((s) => selected.value.includes(s.id))
    return picked.length ? unionMask(picked, i.width.value, i.height.value) : null
  })
  // A stroke paints the drawn mask in place, so requestMask keeps its identity: dependents read drawVersion too.
  const requestArea = computed(() => {
    void drawVersion.value
    return requestMask.value?.reduce((a, b) => a + b, 0) ?? 0
  })

  /** The request's bounding box [x, y, w, h] in image pixels, or null without a request. */
  function requestBox(): [number, number, number, number] | null {
    return requestMask.value ? maskBox(requestMask.value, i.width.value) : null
  }

  let last: [number, number] | null = null
  function classUnder(x: number, y: number): number | null {
    const v = i.labels.value?.[y * i.width.value + x]
    return v === undefined || v === NO_CLASS ? null : v
  }
  /** Drawing starts from the current request, so a picked segment can be touched up by hand. */
  function startDrawing(): Uint8Array {
    drawn.value ??= requestMask.value ? new Uint8Array(requestMask.value) : new Uint8Array(i.width.value * i.height.value)
    return drawn.value
  }
  function onDown(p: { x: number; y: number; shift: boolean }): void {
    if (tool.value === 'pick') {
      const seg = segmentAt(i.segments.value, p.x, p.y)
      drawn.value = null
      if (!seg) {
        if (!p.shift) selected.value = []
      } else if (p.shift) {
        selected.value = selected.value.includes(seg.id) ? selected.value.filter((s) => s !== seg.id) : [...selected.value, seg.id]
      } else selected.value = [seg.id]
      const first = i.segments.value.find((s) => s.id === selected.value[0])
      if (first) i.requestClass.value = first.predClass ?? first.gtClass
    } else if (tool.value === 'brush' || tool.value === 'eraser') {
      // A drawn request has no class of its own: start from what the model predicts where drawing begins.
      if (i.requestClass.value === null && tool.value === 'brush') i.requestClass.value = classUnder(p.x, p.y)
      const mask = startDrawing()
      last = [p.x, p.y]
      paintStroke(mask, i.width.value, i.height.value, last, last, brushRadius.value, tool.value === 'brush' ? 1 : 0)
      drawVersion.value++
    } else if (tool.value === 'polygon') {
      if (i.requestClass.value === null) i.requestClass.value = classUnder(p.x, p.y)
      polygon.value = [...polygon.value, [p.x + 0.5, p.y + 0.5]]
    }
  }
  function onDrag(p: { x: number; y: number }): void {
    if ((tool.value === 'brush' || tool.value === 'eraser') && drawn.value && last) {
      paintStroke(drawn.value, i.width.value, i.height.value, last, [p.x, p.y], brushRadius.value, tool.value === 'brush' ? 1 : 0)
      last = [p.x, p.y]
      drawVersion.value++
    }
  }
  function onUp(): void {
    last = null
  }
  function closePolygon(): void {
    if (polygon.value.length < 3) return
    fillPolygon(startDrawing(), i.width.value, i.height.value, polygon.value)
    polygon.value = []
    drawVersion.value++
  }
  function clearRequest(): void {
    selected.value = []
    drawn.value = null
    polygon.value = []
  }

  return { tool, brushRadius, selected, drawn, drawVersion, polygon, requestMask, requestArea, requestBox, onDown, onDrag, onUp, closePolygon, clearRequest }
}
