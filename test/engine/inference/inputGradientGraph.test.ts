import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { compileInputGradientGraph } from '@main/engine/inference/inputGradientGraph'
import { registerGradientOverrides } from '@main/engine/kernels'
import { buildModel, registerZooLayers } from '@main/engine/models'

/**
 * The compiled graph must be the model: same probabilities and same input gradients as tfjs's own layers in
 * inference mode (the independent reference), with batch-norm statistics that are not the trivial 0/1.
 */
beforeAll(async () => {
  await tf.setBackend('cpu')
  registerZooLayers()
  // Dilated (atrous) convolution gradients, which DeepLab needs, are refused by stock tfjs on every backend.
  registerGradientOverrides()
})

function randomiseBatchNorms(model: tf.LayersModel, seed: number): void {
  let s = seed
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue
    const weights = layer.getWeights()
    // gamma, beta, moving mean, moving variance: positive variance, gamma around 1.
    layer.setWeights(
      weights.map((w, i) => {
        s++
        const u = tf.randomUniform(w.shape, 0, 1, 'float32', s)
        return i === 0 ? u.add(0.5) : i === 1 ? u.sub(0.5) : i === 2 ? u.sub(0.5).mul(0.4) : u.add(0.5)
      })
    )
  }
}

const cases = [
  { architecture: 'unet-vgg', inputShape: [32, 32, 1] },
  { architecture: 'unet-resnet18', inputShape: [32, 32, 1] },
  { architecture: 'unet-mobilenetv2', inputShape: [32, 32, 3] },
  { architecture: 'deeplabv3plus-mobilenetv2', inputShape: [32, 32, 3] }
] as const

describe('input-gradient graph', () => {
  for (const spec of cases) {
    it(`${spec.architecture}: same probabilities and input gradients as the layers model`, () => {
      const model = buildModel({ architecture: spec.architecture, inputShape: [...spec.inputShape], numClasses: 5, width: 0.25, seed: 3 })
      randomiseBatchNorms(model, 11)
      const graph = compileInputGradientGraph(model)
      expect(graph.foldedLayers).toBeGreaterThan(0)
      const x = tf.randomUniform([2, ...spec.inputShape], 0, 1, 'float32', 7) as tf.Tensor4D
      const region = tf.randomUniform([2, spec.inputShape[0], spec.inputShape[1], 1], 0, 1, 'float32', 9).greater(0.5).toFloat()
      const score = (f: (x: tf.Tensor4D) => tf.Tensor4D) => (inp: tf.Tensor) => f(inp as tf.Tensor4D).slice([0, 0, 0, 2], [-1, -1, -1, 1]).mul(region).sum()
      const reference = (inp: tf.Tensor4D) => model.apply(inp, { training: false }) as tf.Tensor4D

      const pRef = reference(x)
      const pOurs = graph.predict(x)
      expect(tf.max(tf.abs(pRef.sub(pOurs))).dataSync()[0]).toBeLessThan(2e-5)

      const gRef = tf.grad(score(reference))(x)
      const gOurs = tf.grad(score(graph.predict))(x)
      const scale = tf.max(tf.abs(gRef)).dataSync()[0]
      expect(scale).toBeGreaterThan(0)
      expect(tf.max(tf.abs(gRef.sub(gOurs))).dataSync()[0] / scale).toBeLessThan(1e-3)

      const before = tf.memory().numTensors
      graph.dispose()
      expect(tf.memory().numTensors).toBeLessThan(before)
      // The model's own weights are untouched by disposing the graph.
      expect(() => reference(x)).not.toThrow()
      model.dispose()
    })
  }
})

describe('input-gradient graph on wasm', () => {
  it('gives the cpu layers model’s gradient for the benchmark-style U-Net', async () => {
    const model = buildModel({ architecture: 'unet-vgg', inputShape: [32, 32, 1], numClasses: 5, width: 0.5, seed: 4 })
    randomiseBatchNorms(model, 5)
    const xData = tf.randomUniform([3, 32, 32, 1], 0, 1, 'float32', 8).dataSync()
    const regionData = tf.randomUniform([3, 32, 32, 1], 0, 1, 'float32', 6).greater(0.5).toFloat().dataSync()
    const gradOf = (f: (x: tf.Tensor4D) => tf.Tensor4D) =>
      tf.tidy(() => {
        const region = tf.tensor4d(regionData, [3, 32, 32, 1])
        return tf.grad((inp: tf.Tensor) => f(inp as tf.Tensor4D).slice([0, 0, 0, 3], [-1, -1, -1, 1]).mul(region).sum())(tf.tensor4d(xData, [3, 32, 32, 1])).dataSync()
      })
    const reference = gradOf((inp) => model.apply(inp, { training: false }) as tf.Tensor4D)
    await import('@tensorflow/tfjs-backend-wasm')
    const { registerWasmKernels } = await import('@main/engine/kernels')
    registerWasmKernels()
    await tf.setBackend('wasm')
    try {
      const graph = compileInputGradientGraph(model)
      const ours = gradOf(graph.predict)
      let peak = 0
      let diff = 0
      for (let i = 0; i < ours.length; i++) {
        peak = Math.max(peak, Math.abs(reference[i]))
        diff = Math.max(diff, Math.abs(reference[i] - ours[i]))
      }
      expect(peak).toBeGreaterThan(0)
      expect(diff / peak).toBeLessThan(1e-3)
      graph.dispose()
    } finally {
      await tf.setBackend('cpu')
    }
  })
})
