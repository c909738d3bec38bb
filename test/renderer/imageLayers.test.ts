import { ref, shallowRef } from 'vue'
import { describe, expect, it, vi } from 'vitest'
import type { ExplanationView } from '@common/methods/viewer'
import type { CanvasLayer } from '@renderer/components/ImageCanvas.vue'
import * as planes from '@renderer/viewer/planes'
import { useImageLayers } from '@renderer/viewer/imageLayers'

// Counting the painters is the point; a stand-in canvas keeps the test off a real 2D context.
vi.mock('@renderer/viewer/planes', async (importOriginal) => {
  const real = await importOriginal<typeof planes>()
  return {
    ...real,
    colourLabels: vi.fn(real.colourLabels),
    saliencyOverlay: vi.fn(real.saliencyOverlay),
    requestOverlay: vi.fn(real.requestOverlay),
    rgbaCanvas: vi.fn((rgba: Uint8ClampedArray) => ({ rgba }) as unknown as HTMLCanvasElement)
  }
})

const W = 4
const H = 3
// The map as the services send it: 2×2 cells for a 4×3 image, drawn upsampled to the image.
const explanation = {
  id: 9, method: 'context', width: W, height: H, saliencyHeight: 2, saliencyWidth: 2,
  saliency: new Float32Array([0, 1, 0, 1]), request: [0, W * H]
} as ExplanationView

function setup() {
  vi.mocked(planes.colourLabels).mockClear()
  vi.mocked(planes.saliencyOverlay).mockClear()
  vi.mocked(planes.requestOverlay).mockClear()
  const inputs = {
    baseImage: shallowRef({} as HTMLImageElement),
    width: ref(W),
    height: ref(H),
    classes: ref([{ id: 0, name: 'road', color: [128, 64, 128] as [number, number, number] }, { id: 1, name: 'rider', color: [255, 0, 0] as [number, number, number] }]),
    gt: shallowRef<Uint8Array | null>(new Uint8Array(W * H).fill(0)),
    pred: shallowRef<Uint8Array | null>(new Uint8Array(W * H).fill(1)),
    showGt: ref(true),
    showPred: ref(true),
    showSaliency: ref(true),
    overlayOpacity: ref(0.5),
    saliencyOpacity: ref(0.85),
    requestMask: shallowRef<Uint8Array | null>(null),
    drawVersion: ref(0),
    polygon: ref<[number, number][]>([]),
    current: shallowRef<ExplanationView | null>(explanation),
    compare: shallowRef<ExplanationView | null>(null)
  }
  return { inputs, ...useImageLayers(inputs) }
}
const byId = (layers: CanvasLayer[], id: string) => layers.find((l) => l.id === id)

describe('image view layers', () => {
  it('changes opacity and visibility without colouring the labels or the saliency again', () => {
    const { inputs, layers } = setup()
    const gt = byId(layers.value, 'gt')!
    const pred = byId(layers.value, 'pred')!
    const sal = byId(layers.value, 'sal-9')!
    expect(planes.colourLabels).toHaveBeenCalledTimes(2)
    expect(planes.saliencyOverlay).toHaveBeenCalledTimes(1)
    expect([gt.opacity, pred.opacity, sal.opacity]).toEqual([0.5, 0.5, 0.85])

    inputs.overlayOpacity.value = 0.2
    inputs.saliencyOpacity.value = 0.3
    inputs.showGt.value = false
    inputs.showSaliency.value = false
    const after = layers.value
    expect(planes.colourLabels).toHaveBeenCalledTimes(2)
    expect(planes.saliencyOverlay).toHaveBeenCalledTimes(1)
    expect(byId(after, 'gt')).toMatchObject({ source: gt.source, opacity: 0.2, visible: false })
    expect(byId(after, 'pred')).toMatchObject({ source: pred.source, opacity: 0.2, visible: true })
    expect(byId(after, 'sal-9')).toMatchObject({ source: sal.source, opacity: 0.3, visible: false })
  })

  it('repaints only the request on a brush stroke, and it replaces the shown explanation', () => {
    const { inputs, layers } = setup()
    void layers.value
    const mask = new Uint8Array(W * H)
    inputs.requestMask.value = mask
    expect(byId(layers.value, 'request')).toBeDefined()
    expect(byId(layers.value, 'sal-9')).toBeUndefined()
    vi.mocked(planes.requestOverlay).mockClear()
    mask[5] = 1
    inputs.drawVersion.value++
    void layers.value
    expect(planes.requestOverlay).toHaveBeenCalledTimes(1)
    expect(planes.colourLabels).toHaveBeenCalledTimes(2)
  })

  it('draws the heatmap at image size from the low-resolution map it receives', () => {
    const { layers } = setup()
    void layers.value
    const painted = vi.mocked(planes.saliencyOverlay).mock.calls[0][0]
    expect(painted).toHaveLength(W * H)
    // Left cells 0, right cells 1: with half-pixel centres the outer columns keep the cells' values and the
    // inner two lie a quarter and three quarters of the way across.
    for (let y = 0; y < H; y++) expect(Array.from(painted.subarray(y * W, y * W + W))).toEqual([0, 64, 191, 255])
  })

  it('paints the labels at full strength, leaving opacity to the layer', () => {
    const { layers } = setup()
    void layers.value
    expect(vi.mocked(planes.colourLabels).mock.calls.map((c) => c[2])).toEqual([1, 1])
  })
})
