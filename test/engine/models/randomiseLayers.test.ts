import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModelSidecarInput } from '@common/modelSidecar'
import { saveModel } from '@main/engine/modelFiles'
import { loadModelArtifacts, readModelJson } from '@main/engine/modelFiles/fsHandler'
import { cascadeUnits, writeRandomisedModel } from '@main/engine/modelFiles/randomiseLayers'
import { openSegmentationModel } from '@main/engine/openModel'
import { compareMasks, contextCells } from '@main/metrics/maskSimilarity'
import { computeOne, useCpu } from '../../saliency/models'

/**
 * A hand-built model with a known answer: the first convolution copies the pixel four columns to the right
 * (a one-hot 9×9 kernel), its batch norm is the identity, and a 1×1 classifier thresholds the copy at 0.5. The
 * score of a request therefore depends on the input only at the request shifted by +4 columns, and the VG map of
 * the trained model is non-zero exactly there. Re-initialising the copy kernel must spread that dependence over the
 * kernel's whole 9×9 window; re-initialising the classifier alone must not move it.
 */
const H = 16
const W = 16
const SHIFT = 4

function handModel(): tf.LayersModel {
  const input = tf.input({ shape: [H, W, 1], name: 'image' })
  const copy = tf.layers.conv2d({ name: 'copy', filters: 1, kernelSize: 9, padding: 'same', useBias: false, kernelInitializer: 'heNormal' })
  const bn = tf.layers.batchNormalization({ name: 'copy_bn', epsilon: 1e-12 })
  const classifier = tf.layers.conv2d({ name: 'classifier', filters: 2, kernelSize: 1, activation: 'softmax' })
  const out = classifier.apply(bn.apply(copy.apply(input))) as tf.SymbolicTensor
  const model = tf.model({ inputs: input, outputs: out })
  const kernel = new Float32Array(81)
  kernel[4 * 9 + 4 + SHIFT] = 1 // output (y, x) reads input (y, x + 4)
  copy.setWeights([tf.tensor4d(kernel, [9, 9, 1, 1])])
  bn.setWeights([tf.ones([1]), tf.zeros([1]), tf.zeros([1]), tf.ones([1])])
  classifier.setWeights([tf.tensor4d([-10, 10], [1, 1, 1, 2]), tf.tensor1d([5, -5])])
  return model
}

const description: ModelSidecarInput = {
  name: 'hand-built copy model',
  classes: [
    { id: 0, name: 'dark', color: [0, 0, 0] },
    { id: 1, name: 'bright', color: [255, 255, 255] }
  ],
  ignoreId: null,
  input: { height: H, width: W, channels: 1 },
  normalisation: { kind: 'range', min: 0, max: 1 },
  architecture: 'test'
}

/** A textured image (every pixel different) and a request of rows 4–11, columns 3–4. */
const image = { data: Float32Array.from({ length: H * W }, (_, i) => 0.2 + 0.6 * (((i * 37) % 101) / 101)), height: H, width: W, channels: 1 }
const request = Uint8Array.from({ length: H * W }, (_, i) => (Math.floor(i / W) >= 4 && Math.floor(i / W) < 12 && i % W >= 3 && i % W < 5 ? 1 : 0))
const vgParams = { method: 'vg', form: 'context', saliencyHeight: H, saliencyWidth: W } as const

async function vgMap(dir: string): Promise<Float32Array> {
  const model = await openSegmentationModel(dir)
  try {
    return (await computeOne(model, { image, request, classId: 1 }, vgParams)).mask
  } finally {
    model.dispose()
  }
}

async function weights(dir: string): Promise<Map<string, Float32Array>> {
  const a = await loadModelArtifacts(dir)
  const data = a.weightData as ArrayBuffer
  const out = new Map<string, Float32Array>()
  let at = 0
  for (const s of a.weightSpecs!) {
    const n = s.shape.reduce((x, y) => x * y, 1)
    out.set(s.name, new Float32Array(data.slice(at, at + 4 * n)))
    at += 4 * n
  }
  return out
}

const std = (v: Float32Array): number => {
  const m = v.reduce((a, b) => a + b, 0) / v.length
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length)
}

describe('cascading randomisation of a layers model', () => {
  let root: string
  let trained: string
  beforeAll(async () => {
    await useCpu()
    root = await mkdtemp(join(tmpdir(), 'ctxlens-randomise-'))
    trained = join(root, 'trained')
    await saveModel(handModel(), trained, description)
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('takes a convolution and its batch norm as one layer, input first', async () => {
    const { json } = await readModelJson(join(trained, 'model.json'))
    expect(cascadeUnits(json).map((u) => u.layers)).toEqual([['copy', 'copy_bn'], ['classifier']])
  })

  it("the trained model's VG map is the request shifted by four columns, and nothing else", async () => {
    const map = await vgMap(trained)
    const support = Array.from(map).flatMap((v, i) => (v > 0 ? [i] : []))
    const shifted = Array.from(request).flatMap((v, i) => (v ? [i + SHIFT] : []))
    expect(support).toEqual(shifted)
  })

  it('re-initialises the top layers from their initialisers, keeps the rest byte for byte, and cascades', async () => {
    const top = await writeRandomisedModel(trained, join(root, 'top1'), 1, 7)
    const all = await writeRandomisedModel(trained, join(root, 'top2'), 2, 7)
    const other = await writeRandomisedModel(trained, join(root, 'top2-seed8'), 2, 8)
    expect(top.layers).toEqual(['classifier'])
    expect(all.layers).toEqual(['classifier', 'copy', 'copy_bn'])
    const [w0, w1, w2, w3] = await Promise.all([trained, top.dir, all.dir, other.dir].map(weights))
    // Stage 1: the copy kernel and its batch norm untouched; the classifier redrawn (its bias back to zeros).
    for (const name of ['copy/kernel', 'copy_bn/gamma', 'copy_bn/beta', 'copy_bn/moving_mean', 'copy_bn/moving_variance']) {
      expect(w1.get(name)).toEqual(w0.get(name))
    }
    expect(w1.get('classifier/kernel')).not.toEqual(w0.get('classifier/kernel'))
    expect(Array.from(w1.get('classifier/bias')!)).toEqual([0, 0])
    // The cascade: the classifier is redrawn identically at the deeper stage; another seed draws otherwise.
    expect(w2.get('classifier/kernel')).toEqual(w1.get('classifier/kernel'))
    expect(w3.get('classifier/kernel')).not.toEqual(w2.get('classifier/kernel'))
    // He-normal (truncated at 2σ) over a fan-in of 81: σ = √(2/81) ≈ 0.157, the truncated spread ≈ 0.88σ.
    const k = w2.get('copy/kernel')!
    expect(std(k)).toBeGreaterThan(0.09)
    expect(std(k)).toBeLessThan(0.2)
    expect(Math.max(...k.map(Math.abs))).toBeLessThanOrEqual(2 * Math.sqrt(2 / 81) + 1e-6)
    expect(Array.from(w2.get('copy_bn/gamma')!)).toEqual([1])
    expect(Array.from(w2.get('copy_bn/moving_variance')!)).toEqual([1])
    expect(top.draws['copy/kernel']).toBeUndefined()
    expect(all.draws['copy/kernel']).toMatch(/He|VarianceScaling/)
    // The copy has its own sidecar, naming what was done, and the original's classes.
    const sidecar = JSON.parse(await readFile(join(all.dir, 'ctxlens.model.json'), 'utf8'))
    expect(sidecar.name).toContain('top 2 of 2 layers re-initialised (seed 7)')
    expect(sidecar.classes).toEqual(description.classes)
  })

  it('VG maps change when the copy layer is re-initialised, and keep their place when only the classifier is', async () => {
    const original = await vgMap(trained)
    const keep = contextCells(request, H, W, H, W)
    const top = await vgMap(join(root, 'top1'))
    const all = await vgMap(join(root, 'top2'))
    // Classifier only: the gradient still reaches the input through the one-hot copy kernel, so the map keeps its
    // support (the shifted request) and agrees in rank on the many zeros around it.
    const topSupport = Array.from(top).flatMap((v, i) => (v > 0 ? [i] : []))
    expect(topSupport).toEqual(Array.from(original).flatMap((v, i) => (v > 0 ? [i] : [])))
    expect(compareMasks(original, top, keep)!.spearman).toBeGreaterThan(0.9)
    // Every layer: the map spreads over the 9×9 window around the request and loses the trained ordering.
    expect(Array.from(all).filter((v) => v > 0).length).toBeGreaterThan(4 * 16)
    const c = compareMasks(original, all, keep)!
    expect(c.collapsed).toBe(false)
    expect(c.spearman).toBeLessThan(0.5)
  })

  it('refuses a graph model and a count the model does not have, naming the problem', async () => {
    await expect(writeRandomisedModel(trained, join(root, 'x'), 3, 0)).rejects.toThrow(/cannot re-initialise 3 of 2 layers/)
    expect(() => cascadeUnits({ modelTopology: { node: [] } } as unknown as tf.io.ModelJSON, 'g/model.json')).toThrow(
      /g\/model\.json has no Keras layer list/
    )
  })
})
