import * as tf from '@tensorflow/tfjs'
import * as ort from 'onnxruntime-node'
import { beforeAll, describe, expect, it } from 'vitest'
import { isAppError } from '@common/errors'
import type { Architecture } from '@common/modelSidecar'
import { initBackend } from '@main/engine/backend'
import { layersModelToOnnx, samePads } from '@main/engine/export/layersToOnnx'
import { buildModel } from '@main/engine/models'
import { decodeModel, encodeModel } from '@main/engine/onnx/ir'
import { compareWithOrt, randomiseBatchNorms, range, seededArray } from './helpers'

/**
 * ONNX Runtime on the export against tfjs (the wasm backend the engine uses) on the model itself: every zoo
 * architecture, random weights with non-trivial batch-norm statistics, a non-square input so that swapped
 * height and width would show. Logits are compared as well as probabilities, since a softmax near uniform or
 * near one-hot would hide small errors.
 */
const TOLERANCE = 1e-4
const seen: string[] = []

beforeAll(async () => {
  await initBackend({ flag: 'wasm' })
})

const ARCHITECTURES: Architecture[] = ['unet-vgg', 'unet-resnet18', 'unet-mobilenetv2', 'deeplabv3plus-mobilenetv2']

/** The model up to (and including) the named layer. */
function truncated(model: tf.LayersModel, layer: string): tf.LayersModel {
  return tf.model({ inputs: model.inputs, outputs: model.getLayer(layer).output as tf.SymbolicTensor })
}

describe('zoo architectures exported to ONNX', () => {
  for (const [i, architecture] of ARCHITECTURES.entries()) {
    it(`${architecture}: ORT probabilities and logits equal tfjs's, batch norm folded, NCHW inside`, async () => {
      const model = buildModel({ architecture, inputShape: [32, 48, 3], numClasses: 5, width: 0.25, levels: 2, seed: 11 + i })
      randomiseBatchNorms(model, 100 * i)
      const ir = layersModelToOnnx(model)
      const ops = ir.graph.nodes.map((n) => n.opType)
      // Every BN of the zoo follows a conv, so none survives; one transpose in, one out.
      expect(ops.filter((o) => o === 'BatchNormalization')).toEqual([])
      expect(ops.filter((o) => o === 'Transpose')).toHaveLength(2)
      expect(ir.graph.inputs[0].shape).toEqual(['batch', 32, 48, 3])
      expect(ir.graph.outputs[0].shape).toEqual(['batch', 32, 48, 5])

      const probs = await compareWithOrt(model, 3, 1 + i, [0, 1], encodeModel(ir))
      expect(probs.dims).toEqual([3, 32, 48, 5])
      const logitsLayer = architecture.startsWith('deeplab') ? 'logits_upsample' : 'classifier'
      const logits = await compareWithOrt(truncated(model, logitsLayer), 3, 1 + i)
      // The comparison must see real variation, not a constant map.
      const [lo, hi] = range(logits.tfjs)
      const spread = hi - lo
      expect(spread).toBeGreaterThan(0.1)
      seen.push(`${architecture}: probabilities ${probs.maxAbsDiff.toExponential(2)}, logits ${logits.maxAbsDiff.toExponential(2)} (logit range ${spread.toFixed(2)})`)
      expect(probs.maxAbsDiff).toBeLessThan(TOLERANCE)
      expect(logits.maxAbsDiff).toBeLessThan(TOLERANCE)
      model.dispose()
    })
  }

  it('one session runs any batch size (symbolic batch dimension)', async () => {
    const model = buildModel({ architecture: 'unet-vgg', inputShape: [16, 16, 1], numClasses: 3, width: 0.25, levels: 2 })
    const session = await ort.InferenceSession.create(encodeModel(layersModelToOnnx(model)))
    for (const n of [1, 4]) {
      const out = await session.run({ image: new ort.Tensor('float32', seededArray(n * 256, n), [n, 16, 16, 1]) })
      expect(out.probabilities.dims).toEqual([n, 16, 16, 3])
    }
    await session.release()
    // --fixed-batch: batch 1 in the graph's shapes.
    const fixed = layersModelToOnnx(model, { batchDim: null })
    expect(fixed.graph.inputs[0].shape).toEqual([1, 16, 16, 1])
    expect(fixed.graph.outputs[0].shape).toEqual([1, 16, 16, 3])
    model.dispose()
  })

  it('survives a round trip through the IR decoder the gradient builder reads models with', () => {
    const model = buildModel({ architecture: 'unet-resnet18', inputShape: [16, 16, 2], numClasses: 3, width: 0.25, levels: 2 })
    const ir = layersModelToOnnx(model)
    const back = decodeModel(encodeModel(ir))
    expect(back.opset).toBe(ir.opset)
    expect(back.graph.nodes.map((n) => [n.opType, n.inputs, n.outputs])).toEqual(ir.graph.nodes.map((n) => [n.opType, n.inputs, n.outputs]))
    expect([...back.graph.initializers.keys()]).toEqual([...ir.graph.initializers.keys()])
    for (const [name, t] of ir.graph.initializers) expect(back.graph.initializers.get(name)?.data).toEqual(t.data)
    model.dispose()
  })
})

/** Small models for the layer types and settings the zoo does not use. */
function bias(seed: number): ReturnType<typeof tf.initializers.randomUniform> {
  return tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed })
}
function kernel(seed: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed })
}

const L = tf.layers
type S = tf.SymbolicTensor
const CASES: { name: string; build: () => tf.LayersModel }[] = [
  {
    name: 'SAME with even kernels, stride 2 and dilation on odd sizes',
    build: () => {
      const x = tf.input({ shape: [13, 10, 2] })
      let y = L.conv2d({ filters: 6, kernelSize: 4, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: kernel(1), biasInitializer: bias(2) }).apply(x) as S
      y = L.conv2d({ filters: 5, kernelSize: [2, 3], padding: 'same', kernelInitializer: kernel(3), biasInitializer: bias(4) }).apply(y) as S
      y = L.conv2d({ filters: 4, kernelSize: 3, strides: [2, 1], padding: 'same', kernelInitializer: kernel(5) }).apply(y) as S
      y = L.conv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'sigmoid', kernelInitializer: kernel(6) }).apply(y) as S
      y = L.conv2d({ filters: 3, kernelSize: 2, strides: 2, padding: 'valid', kernelInitializer: kernel(7) }).apply(y) as S
      return tf.model({ inputs: x, outputs: y })
    }
  },
  {
    name: 'depthwise (multiplier 2) + folded BN, separable, zero padding, SAME pooling, LeakyReLU, concat',
    build: () => {
      const x = tf.input({ shape: [13, 10, 2] })
      const a = L.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: kernel(1) }).apply(x) as S
      let b = L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, depthwiseInitializer: kernel(2), biasInitializer: bias(3) }).apply(x) as S
      b = L.batchNormalization({ epsilon: 1e-3 }).apply(b) as S
      b = L.leakyReLU({ alpha: 0.1 }).apply(b) as S
      let c = L.concatenate().apply([a, b]) as S
      c = L.zeroPadding2d({ padding: [[1, 2], [0, 1]] }).apply(c) as S
      c = L.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'relu6', depthwiseInitializer: kernel(4), pointwiseInitializer: kernel(5), biasInitializer: bias(6) }).apply(c) as S
      const m = L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(c) as S
      const v = L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(c) as S
      return tf.model({ inputs: x, outputs: L.concatenate().apply([m, v]) as S })
    }
  },
  {
    name: 'transposed convolutions (SAME, VALID, kernel smaller than stride) + folded BN',
    build: () => {
      const x = tf.input({ shape: [5, 7, 3] })
      let y = L.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: kernel(1), biasInitializer: bias(2) }).apply(x) as S
      y = L.batchNormalization().apply(y) as S
      y = L.activation({ activation: 'tanh' }).apply(y) as S
      y = L.conv2dTranspose({ filters: 3, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: kernel(3) }).apply(y) as S
      y = L.conv2dTranspose({ filters: 3, kernelSize: 2, strides: 3, padding: 'valid', kernelInitializer: kernel(4), biasInitializer: bias(5) }).apply(y) as S
      y = L.conv2dTranspose({ filters: 2, kernelSize: 1, strides: 2, padding: 'same', kernelInitializer: kernel(6), biasInitializer: bias(7) }).apply(y) as S
      return tf.model({ inputs: x, outputs: y })
    }
  },
  {
    name: 'dense on images, unfolded BN, ELU, merges, cropping, non-power-of-2 resizes',
    build: () => {
      const x = tf.input({ shape: [9, 8, 3] })
      const p = L.maxPooling2d({ poolSize: 2 }).apply(x) as S
      let a = L.batchNormalization().apply(p) as S
      a = L.dense({ units: 4, activation: 'elu', kernelInitializer: kernel(1), biasInitializer: bias(2) }).apply(a) as S
      const b = L.dense({ units: 4, kernelInitializer: kernel(3) }).apply(p) as S
      const c = L.elu({}).apply(b) as S
      let m = L.multiply().apply([a, b]) as S
      m = L.minimum().apply([m, c]) as S
      m = L.average().apply([m, a, c]) as S
      m = L.maximum().apply([m, b]) as S
      m = L.cropping2D({ cropping: [[1, 0], [0, 2]] }).apply(m) as S
      const near = L.upSampling2d({ size: [3, 2] }).apply(m) as S
      const lin = L.upSampling2d({ size: [3, 2], interpolation: 'bilinear' }).apply(m) as S
      return tf.model({ inputs: x, outputs: L.add().apply([near, lin, near]) as S })
    }
  },
  {
    name: 'global pooling, dense and BN on vectors, reshape to 1×1 and broadcast back',
    build: () => {
      const x = tf.input({ shape: [8, 6, 3] })
      const f = L.conv2d({ filters: 5, kernelSize: 3, padding: 'same', kernelInitializer: kernel(1) }).apply(x) as S
      let v = L.globalAveragePooling2d({}).apply(f) as S
      v = L.dense({ units: 5, activation: 'relu', kernelInitializer: kernel(2), biasInitializer: bias(3) }).apply(v) as S
      v = L.batchNormalization().apply(v) as S
      const w = L.globalMaxPooling2d({}).apply(f) as S
      v = L.add().apply([v, w]) as S
      v = L.reshape({ targetShape: [1, 1, 5] }).apply(v) as S
      v = L.upSampling2d({ size: [8, 6] }).apply(v) as S
      let y = L.add().apply([f, v]) as S
      y = L.softmax({ axis: -1 }).apply(y) as S
      return tf.model({ inputs: x, outputs: y })
    }
  },
  {
    name: 'a Sequential model (as Keras exports of simple nets load)',
    build: () => {
      const m = tf.sequential()
      m.add(L.conv2d({ inputShape: [9, 7, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: kernel(1), biasInitializer: bias(2) }))
      m.add(L.batchNormalization())
      m.add(L.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }))
      m.add(L.conv2d({ filters: 3, kernelSize: 1, activation: 'softmax', kernelInitializer: kernel(3) }))
      return m
    }
  },
  {
    name: 'flatten and dense to a vector (NHWC element order)',
    build: () => {
      const x = tf.input({ shape: [4, 3, 2] })
      const f = L.conv2d({ filters: 3, kernelSize: 1, kernelInitializer: kernel(1), biasInitializer: bias(2) }).apply(x) as S
      const flat = L.flatten().apply(f) as S
      const r = L.reshape({ targetShape: [6, 6] }).apply(f) as S
      const d = L.dense({ units: 4, activation: 'softmax', kernelInitializer: kernel(3) }).apply(flat) as S
      const e = L.dense({ units: 4, kernelInitializer: kernel(4) }).apply(L.flatten().apply(r) as S) as S
      return tf.model({ inputs: x, outputs: L.concatenate().apply([d, e]) as S })
    }
  }
]

describe('layer types and settings beyond the zoo', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      const model = c.build()
      randomiseBatchNorms(model, 7 + i)
      const r = await compareWithOrt(model, 2, 20 + i, [-1, 1])
      seen.push(`${c.name}: ${r.maxAbsDiff.toExponential(2)}`)
      expect(r.dims).toEqual([2, ...(model.outputs[0].shape.slice(1) as number[])])
      expect(r.maxAbsDiff).toBeLessThan(TOLERANCE)
      model.dispose()
    })
  }

  it('pads SAME as TensorFlow does: the odd pixel at the end', () => {
    expect(samePads(13, 4, 2, 1)).toEqual([1, 2])
    expect(samePads(64, 3, 2, 1)).toEqual([0, 1])
    expect(samePads(64, 3, 1, 1)).toEqual([1, 1])
    expect(samePads(4, 3, 1, 18)).toEqual([18, 18])
  })

  it('refuses a layer it cannot export, naming it', () => {
    const x = tf.input({ shape: [4, 4, 2] })
    const y = L.permute({ dims: [2, 1, 3], name: 'swap_axes' }).apply(x) as S
    const model = tf.model({ inputs: x, outputs: y })
    let error: unknown
    try {
      layersModelToOnnx(model)
    } catch (e) {
      error = e
    }
    expect(isAppError(error, 'MODEL_FILE_INVALID')).toBe(true)
    expect((error as Error).message).toMatch(/layer "swap_axes" \(Permute\)/)
  })

  it('reports what it saw', () => {
    console.log(`max |ORT − tfjs-wasm|:\n  ${seen.join('\n  ')}`)
    expect(seen.length).toBe(ARCHITECTURES.length + CASES.length)
  })
})
