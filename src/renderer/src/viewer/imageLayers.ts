import { computed, type Ref } from 'vue'
import type { ExplanationView } from '@common/methods/viewer'
import { maskFromRuns } from '@common/maskRuns'
import { saliencyDisplayBytes } from '@common/saliencyMap'
import type { ClassDef } from '@common/types'
import type { CanvasLayer } from '../components/ImageCanvas.vue'
import { colourLabels, fillPolygon, requestOverlay, rgbaCanvas, saliencyOverlay } from './planes'

export interface ImageLayerInputs {
  baseImage: Readonly<Ref<HTMLImageElement | null>>
  width: Readonly<Ref<number>>
  height: Readonly<Ref<number>>
  classes: Readonly<Ref<ClassDef[]>>
  gt: Readonly<Ref<Uint8Array | null>>
  pred: Readonly<Ref<Uint8Array | null>>
  showGt: Readonly<Ref<boolean>>
  showPred: Readonly<Ref<boolean>>
  showSaliency: Readonly<Ref<boolean>>
  overlayOpacity: Readonly<Ref<number>>
  saliencyOpacity: Readonly<Ref<number>>
  requestMask: Readonly<Ref<Uint8Array | null>>
  /** Bumped by each stroke: strokes paint the request mask in place, so its identity does not change. */
  drawVersion: Readonly<Ref<number>>
  polygon: Readonly<Ref<[number, number][]>>
  current: Readonly<Ref<ExplanationView | null>>
  compare: Readonly<Ref<ExplanationView | null>>
}

interface ExplanationPlanes {
  id: number
  saliency: HTMLCanvasElement
  request: HTMLCanvasElement
}

/**
 * The image view's overlay stack. Each plane is its own computed over its own inputs and painted at full strength;
 * opacity and visibility are applied by the canvas per layer, so moving a slider or toggling an overlay costs no
 * pass over the pixels, and a brush stroke repaints only the request.
 */
export function useImageLayers(i: ImageLayerInputs) {
  const labelPlane = (labels: Uint8Array | null) => (labels ? rgbaCanvas(colourLabels(labels, i.classes.value, 1), i.width.value, i.height.value) : null)
  const gtPlane = computed(() => labelPlane(i.gt.value))
  const predPlane = computed(() => labelPlane(i.pred.value))

  const requestPlane = computed(() => {
    void i.drawVersion.value
    const mask = i.requestMask.value
    return mask ? rgbaCanvas(requestOverlay(mask, i.width.value, i.height.value), i.width.value, i.height.value) : null
  })

  const polygonPlane = computed(() => {
    const points = i.polygon.value
    if (!points.length) return null
    const w = i.width.value
    const h = i.height.value
    const poly = new Uint8Array(w * h)
    fillPolygon(poly, w, h, points)
    // The corners placed so far, so an open polygon of one or two points still shows where it starts.
    for (const [x, y] of points) poly[Math.floor(y) * w + Math.floor(x)] = 1
    return rgbaCanvas(requestOverlay(poly, w, h, 0.15), w, h)
  })

  const explanationPlanes = (e: ExplanationView | null): ExplanationPlanes | null =>
    e
      ? {
          id: e.id,
          // The map arrives at its own resolution; upsampled here with main's own code, so it looks the same.
          saliency: rgbaCanvas(saliencyOverlay(saliencyDisplayBytes(e), 1), e.width, e.height),
          request: rgbaCanvas(requestOverlay(maskFromRuns(e.request, e.width, e.height), e.width, e.height, 0), e.width, e.height)
        }
      : null
  const currentPlanes = computed(() => explanationPlanes(i.current.value))
  const comparePlanes = computed(() => explanationPlanes(i.compare.value))

  const explanationLayers = (p: ExplanationPlanes | null, visible: boolean): CanvasLayer[] =>
    p
      ? [
          { id: `sal-${p.id}`, source: p.saliency, visible, opacity: i.saliencyOpacity.value },
          { id: `req-${p.id}`, source: p.request, visible }
        ]
      : []
  const imageLayer = (): CanvasLayer[] => (i.baseImage.value ? [{ id: 'image', source: i.baseImage.value, visible: true }] : [])

  const layers = computed<CanvasLayer[]>(() => {
    if (!i.baseImage.value) return []
    const out = imageLayer()
    if (gtPlane.value) out.push({ id: 'gt', source: gtPlane.value, visible: i.showGt.value, opacity: i.overlayOpacity.value })
    if (predPlane.value) out.push({ id: 'pred', source: predPlane.value, visible: i.showPred.value, opacity: i.overlayOpacity.value })
    // The shown explanation replaces the request being edited only while nothing new is picked or drawn.
    if (requestPlane.value) out.push({ id: 'request', source: requestPlane.value, visible: true })
    else out.push(...explanationLayers(currentPlanes.value, i.showSaliency.value))
    if (polygonPlane.value) out.push({ id: 'polygon', source: polygonPlane.value, visible: true })
    return out
  })

  // Side by side the saliency shows even while the main view hides it: comparing it is why the pair is open.
  const currentCompareLayers = computed<CanvasLayer[]>(() => (i.baseImage.value ? [...imageLayer(), ...explanationLayers(currentPlanes.value, true)] : []))
  const compareLayers = computed<CanvasLayer[]>(() =>
    i.baseImage.value && comparePlanes.value ? [...imageLayer(), ...explanationLayers(comparePlanes.value, true)] : []
  )

  return { layers, currentCompareLayers, compareLayers }
}
