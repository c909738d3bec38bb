/**
 * The same trained model on two runtimes: the demo U-Net as TensorFlow.js files (tfjs-wasm, gradients by tf.grad
 * through the engine's input-gradient graph) and as its committed ONNX export (ONNX Runtime, gradients by the graphs
 * Context Lens builds). Neither side's gradient code is shared with the other, so agreement checks both.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '@main/engine/backend'
import type { OnnxSegmentationModel } from '@main/engine/onnx/onnxSegmentationModel'
import { openSegmentationModel } from '@main/engine/openModel'
import type { OpenedSegmentationModel } from '@main/engine/segmentationModel'
import { parseStreetScenesSpec, streetSceneSample } from '@main/datasets/streetScenes/batch'
import { computeSaliency, type SaliencyRequest } from '@main/saliency'
import { saliencyParams } from '@common/saliency'

const DEMO = join(__dirname, '../../../resources/demo-model')
const H = 64
const W = 128

let tfjs: OpenedSegmentationModel
let onnx: OnnxSegmentationModel

/** Demo scenes with one request each: the largest region of a figure class in the ground truth. */
function requests(n: number): SaliencyRequest[] {
  const spec = parseStreetScenesSpec({ height: H, width: W })
  const out: SaliencyRequest[] = []
  for (let i = 0; out.length < n && i < 50; i++) {
    const scene = streetSceneSample(spec, 'test', i)
    // 5..9 are the thing classes of the demo (person, rider, car, bicycle...); take the most frequent present one.
    const counts = new Array<number>(10).fill(0)
    for (const l of scene.label) counts[l]++
    let cls = -1
    for (let c = 5; c < 10; c++) if (counts[c] > 40 && (cls < 0 || counts[c] > counts[cls])) cls = c
    if (cls < 0) continue
    const request = new Uint8Array(H * W)
    for (let p = 0; p < request.length; p++) request[p] = scene.label[p] === cls ? 1 : 0
    out.push({ id: `scene${i}`, image: { data: Float32Array.from(scene.image, (v) => v / 255), height: H, width: W, channels: 3 }, request, classId: cls })
  }
  return out
}

function correlation(a: Float32Array, b: Float32Array): number {
  const n = a.length
  let ma = 0
  let mb = 0
  for (let i = 0; i < n; i++) {
    ma += a[i] / n
    mb += b[i] / n
  }
  let sab = 0
  let saa = 0
  let sbb = 0
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb)
    saa += (a[i] - ma) ** 2
    sbb += (b[i] - mb) ** 2
  }
  return sab / Math.sqrt(saa * sbb)
}

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0)

beforeAll(async () => {
  await initBackend({ flag: 'wasm' })
  tfjs = await openSegmentationModel(DEMO)
  // Through the committed description (model.onnx.ctxlens.json), as the app opens it.
  const opened = await openSegmentationModel(join(DEMO, 'model.onnx'))
  expect(opened.runtime).toBe('onnx')
  expect(opened.classIds).toEqual(tfjs.classIds)
  onnx = opened as OnnxSegmentationModel
}, 120_000)

afterAll(() => {
  tfjs?.dispose()
  onnx?.dispose()
})

describe('demo model: tfjs-wasm vs its ONNX export on ONNX Runtime', () => {
  it('predicts the same probabilities', async () => {
    const reqs = requests(2)
    const images = new Float32Array(2 * H * W * 3)
    reqs.forEach((r, i) => images.set(r.image.data, i * H * W * 3))
    const g = { batch: 2, height: H, width: W, channels: 3 }
    const [a, b] = await Promise.all([tfjs.predict(images, g), onnx.predict(images, g)])
    expect(b.length).toBe(2 * H * W * 10)
    expect(maxAbs(a, b)).toBeLessThan(1e-4)
  })

  it('gives the same Eq. 2 step: loss terms and mask gradient', async () => {
    const [r] = requests(1)
    const hw = H * W
    const mh = 4
    const mw = 8
    const masks = Float32Array.from({ length: mh * mw }, (_, i) => 0.2 + 0.6 * ((i * 37) % 11) / 10)
    const images = r.image.data
    const start = new Float32Array(hw * 3)
    const requestMasks = Float32Array.from(r.request)
    const classOneHot = new Float32Array(10)
    classOneHot[r.classId] = 1
    const probs = await tfjs.predict(images, { batch: 1, height: H, width: W, channels: 3 })
    const originalProb = Float32Array.from({ length: hw }, (_, p) => probs[p * 10 + r.classId])
    const args = { batch: 1, height: H, width: W, channels: 3, maskHeight: mh, maskWidth: mw, masks, images, start, requestMasks, classOneHot, originalProb, lambda: 0.05, clip: [0, 1] as [number, number], withGradient: true }
    const [a, b] = await Promise.all([tfjs.perturbationStep(args), onnx.perturbationStep(args)])
    expect(b.preservation[0]).toBeGreaterThan(0.01) // the step must have something to preserve, or the check is empty
    expect(Math.abs(a.loss[0] - b.loss[0])).toBeLessThan(1e-4)
    expect(Math.abs(a.score[0] - b.score[0])).toBeLessThan(1e-4)
    const ga = a.gradient!
    const gb = b.gradient!
    const scale = ga.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
    expect(scale).toBeGreaterThan(0.05)
    expect(maxAbs(ga, gb)).toBeLessThan(1e-3 * scale)
  })

  it('gives the same context-saliency masks and the same VG maps', async () => {
    const reqs = requests(3)
    expect(reqs.length).toBe(3)
    const params = saliencyParams('context', 'synthetic', { steps: 30, maskHeight: 8, maskWidth: 16 })
    const [a, b] = await Promise.all([computeSaliency(tfjs, reqs, params), computeSaliency(onnx, reqs, params)])
    for (let i = 0; i < reqs.length; i++) {
      expect(correlation(a[i].mask, b[i].mask)).toBeGreaterThan(0.99)
      expect(maxAbs(a[i].mask, b[i].mask)).toBeLessThan(0.05)
    }
    const vg = saliencyParams('vg', 'synthetic', { saliencyHeight: 8, saliencyWidth: 16 })
    const [va, vb] = await Promise.all([computeSaliency(tfjs, reqs, vg), computeSaliency(onnx, reqs, vg)])
    for (let i = 0; i < reqs.length; i++) expect(correlation(va[i].mask, vb[i].mask)).toBeGreaterThan(0.999)
  }, 300_000)
})
