import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { isAppError } from '@common/errors'
import { ARCHITECTURES, type Architecture } from '@common/modelSidecar'
import { BENCHMARK_SPEC, buildModel, DilatedDepthwiseConv2D, modelStats } from '@main/engine/models'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

function randomImage(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  return tf.randomUniform(shape, 0, 1, 'float32', seed) as tf.Tensor4D
}

describe('model zoo', () => {
  const small: Record<Architecture, { inputShape: [number, number, number]; width: number; levels?: number }> = {
    'unet-vgg': { inputShape: [32, 32, 1], width: 0.25, levels: 3 },
    'unet-resnet18': { inputShape: [32, 32, 3], width: 0.25, levels: 3 },
    'unet-mobilenetv2': { inputShape: [32, 32, 3], width: 0.25, levels: 4 },
    'deeplabv3plus-mobilenetv2': { inputShape: [32, 48, 3], width: 0.25 }
  }

  for (const architecture of ARCHITECTURES) {
    it(`${architecture} outputs a softmax map at the input resolution`, () => {
      const numClasses = 5
      const model = buildModel({ architecture, numClasses, ...small[architecture] })
      const [h, w, c] = small[architecture].inputShape
      const x = randomImage([2, h, w, c], 7)
      const y = model.predict(x) as tf.Tensor
      expect(y.shape).toEqual([2, h, w, numClasses])
      const values = y.dataSync()
      for (let i = 0; i < values.length; i += numClasses) {
        let sum = 0
        for (let k = 0; k < numClasses; k++) {
          expect(values[i + k]).toBeGreaterThanOrEqual(0)
          expect(values[i + k]).toBeLessThanOrEqual(1)
          sum += values[i + k]
        }
        expect(Math.abs(sum - 1)).toBeLessThan(1e-5)
      }
      // A network whose output ignored the image would make every explanation empty.
      const other = model.predict(randomImage([2, h, w, c], 8)) as tf.Tensor
      expect(tf.sub(y, other).abs().max().dataSync()[0]).toBeGreaterThan(1e-6)
      tf.dispose([x, y, other])
      model.dispose()
    })
  }

  it('gives the same weights for the same seed and different weights for another seed', () => {
    const spec = { architecture: 'unet-mobilenetv2' as const, inputShape: [16, 16, 1] as [number, number, number], numClasses: 3, width: 0.25, levels: 2 }
    const a = buildModel({ ...spec, seed: 3 })
    const b = buildModel({ ...spec, seed: 3 })
    const c = buildModel({ ...spec, seed: 4 })
    const wa = a.getWeights()
    const wb = b.getWeights()
    const wc = c.getWeights()
    expect(wa.length).toBe(wb.length)
    // Names come from the spec, not from tfjs's global layer counters, so saved files of equal models are equal.
    expect(a.weights.map((w) => w.originalName)).toEqual(b.weights.map((w) => w.originalName))
    let differs = false
    for (let i = 0; i < wa.length; i++) {
      expect(Array.from(wa[i].dataSync())).toEqual(Array.from(wb[i].dataSync()))
      if (wa[i].shape.length === 4 && tf.sub(wa[i], wc[i]).abs().max().dataSync()[0] > 0) differs = true
    }
    expect(differs).toBe(true)
    ;[a, b, c].forEach((m) => m.dispose())
  })

  it('benchmark U-Net has the 16-32-64-128-128 VGG layout: ~1.2M parameters, counted by hand', () => {
    const model = buildModel(BENCHMARK_SPEC)
    const stats = modelStats(model)
    // Hand count: 3×3 convs (no bias, batch norm after each), two per block; decoder block i sees the upsampled
    // deeper decoder output concatenated with skip i.
    const ch = [16, 32, 64, 128, 128]
    const convs: [number, number, number][] = [] // [cin, cout, resolution]
    let cin = 1
    for (let i = 0; i < 4; i++) {
      convs.push([cin, ch[i], 64 >> i], [ch[i], ch[i], 64 >> i])
      cin = ch[i]
    }
    convs.push([128, 128, 4], [128, 128, 4])
    let deeper = 128
    for (let i = 3; i >= 0; i--) {
      convs.push([deeper + ch[i], ch[i], 64 >> i], [ch[i], ch[i], 64 >> i])
      deeper = ch[i]
    }
    const convWeights = convs.reduce((a, [i, o]) => a + 9 * i * o, 0)
    const bnChannels = convs.reduce((a, [, o]) => a + o, 0)
    const classifier = 16 * 11 + 11
    expect(stats.trainableParams).toBe(convWeights + 2 * bnChannels + classifier)
    // Moving mean and variance are weights too, not trainable.
    expect(stats.params).toBe(stats.trainableParams + 2 * bnChannels)
    expect(Math.abs(stats.trainableParams / 1.2e6 - 1)).toBeLessThan(0.05)
    const macs = convs.reduce((a, [i, o, r]) => a + r * r * 9 * i * o, 0) + 64 * 64 * 16 * 11
    expect(stats.macs).toBe(macs)
    model.dispose()
  })

  it('counts MACs of standard, dilated depthwise, separable, transposed and dense layers from their configs', () => {
    const input = tf.input({ shape: [8, 10, 3] })
    let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }).apply(input) as tf.SymbolicTensor // 4×5×4
    x = new DilatedDepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, dilationRate: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor // 4×5×8
    x = tf.layers.separableConv2d({ filters: 6, kernelSize: 3, padding: 'valid' }).apply(x) as tf.SymbolicTensor // 2×3×6
    x = tf.layers.conv2dTranspose({ filters: 2, kernelSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor // 4×6×2
    x = tf.layers.dense({ units: 7 }).apply(x) as tf.SymbolicTensor // 4×6×7
    const model = tf.model({ inputs: input, outputs: x })
    const expected = 4 * 5 * 9 * 3 * 4 + 4 * 5 * 9 * 4 * 2 + (2 * 3 * 9 * 8 + 2 * 3 * 8 * 6) + 2 * 3 * 4 * 6 * 2 + 4 * 6 * 2 * 7
    expect(modelStats(model).macs).toBe(expected)
    const params = (9 * 3 * 4 + 4) + (9 * 4 * 2 + 8) + (9 * 8 + 8 * 6 + 6) + (4 * 6 * 2 + 2) + (2 * 7 + 7)
    expect(modelStats(model).params).toBe(params)
    model.dispose()
  })

  it('dilated depthwise layer equals a zero-stuffed 5×5 depthwise convolution', () => {
    const input = tf.input({ shape: [9, 9, 2] })
    const layer = new DilatedDepthwiseConv2D({ kernelSize: 3, dilationRate: 2, padding: 'same', useBias: false })
    const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor })
    const k3 = layer.getWeights()[0].arraySync() as number[][][][]
    const k5 = Array.from({ length: 5 }, (_, i) =>
      Array.from({ length: 5 }, (_, j) => (i % 2 === 0 && j % 2 === 0 ? k3[i / 2][j / 2] : [[0], [0]]))
    )
    const x = randomImage([1, 9, 9, 2], 11)
    const expected = tf.depthwiseConv2d(x, tf.tensor4d(k5), 1, 'same')
    const actual = model.predict(x) as tf.Tensor
    expect(tf.sub(actual, expected).abs().max().dataSync()[0]).toBeLessThan(1e-5)
    tf.dispose([x, expected, actual])
    model.dispose()
  })

  it('refuses an input size the downsampling cannot divide', () => {
    try {
      buildModel({ architecture: 'unet-vgg', inputShape: [30, 32, 1], numClasses: 3, levels: 2 })
      expect.unreachable()
    } catch (err) {
      expect(isAppError(err, 'INVALID_PARAMETERS')).toBe(true)
    }
    expect(() => buildModel({ architecture: 'unet-vgg', inputShape: [32, 32, 1], numClasses: 1 })).toThrow(/numClasses/)
  })
})
