import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { directionalFD, dot, expectClose, rand, runOn, setupBackends, size } from './helpers'

type Shape4 = [number, number, number, number]

beforeAll(setupBackends)

const X: Shape4 = [2, 8, 8, 4]
const W: Shape4 = [3, 3, 4, 6]
const DW: Shape4 = [3, 3, 4, 2]
const PW: Shape4 = [1, 1, 8, 5]
const TW: Shape4 = [3, 3, 5, 4]

interface Params {
  w: tf.Tensor4D
  b: tf.Tensor1D
  dw: tf.Tensor4D
  pw: tf.Tensor4D
  tw: tf.Tensor4D
  gamma: tf.Tensor1D
  beta: tf.Tensor1D
}

function params(): Params {
  return {
    w: tf.tensor4d(rand(size(W), 701), W),
    b: tf.tensor1d(rand(6, 702)),
    dw: tf.tensor4d(rand(size(DW), 703), DW),
    pw: tf.tensor4d(rand(size(PW), 704), PW),
    tw: tf.tensor4d(rand(size(TW), 705), TW),
    gamma: tf.tensor1d(rand(4, 706).map((v) => 1 + 0.5 * v)),
    beta: tf.tensor1d(rand(4, 707))
  }
}

/**
 * One entry per layer type a segmentation network is built from. Each maps x to some tensor; the test
 * differentiates Σ r ∘ f(x) (r fixed random) so every output element contributes with its own weight.
 */
const LAYERS: Record<string, (x: tf.Tensor4D, p: Params) => tf.Tensor> = {
  'conv2d + bias + relu': (x, p) => tf.relu(tf.add(tf.conv2d(x, p.w, 1, 'same'), p.b)),
  'conv2d s2 + relu6': (x, p) => tf.relu6(tf.conv2d(x, p.w, 2, 'same')),
  'fused conv2d, bias, linear': (x, p) => tf.fused.conv2d({ x, filter: p.w, bias: p.b, strides: 1, pad: 'same' }),
  'fused conv2d, bias, relu': (x, p) => tf.fused.conv2d({ x, filter: p.w, bias: p.b, strides: 1, pad: 'valid', activation: 'relu' }),
  'dilated conv2d': (x, p) => tf.conv2d(x, p.w, 1, 'same', 'NHWC', 2),
  'depthwise s2': (x, p) => tf.depthwiseConv2d(x, p.dw, 2, 'same'),
  'dilated depthwise': (x, p) => tf.depthwiseConv2d(x, p.dw, 1, 'same', 'NHWC', 2),
  'separable conv': (x, p) => tf.separableConv2d(x, p.dw, p.pw, 1, 'same'),
  'batchNorm, inference': (x, p) => tf.batchNorm(x, tf.tensor1d([0.1, -0.2, 0.3, 0]), tf.tensor1d([1, 2, 0.5, 1.5]), p.beta, p.gamma, 1e-3),
  'batchNorm, training (batch moments)': (x, p) => {
    const m = tf.moments(x, [0, 1, 2])
    return tf.batchNorm(x, m.mean, m.variance, p.beta, p.gamma, 1e-3)
  },
  'maxPool 2x2': (x) => tf.maxPool(x, 2, 2, 'same'),
  'avgPool 3x3 s1 same': (x) => tf.avgPool(x, 3, 1, 'same'),
  'resizeBilinear x2, half-pixel': (x) => tf.image.resizeBilinear(x, [16, 16], false, true),
  'resizeBilinear to 13x5, half-pixel': (x) => tf.image.resizeBilinear(x, [13, 5], false, true),
  'conv2dTranspose s2': (x, p) => tf.conv2dTranspose(x, p.tw, [2, 16, 16, 5], 2, 'same'),
  'concat + add': (x) => tf.add(tf.concat([x, tf.mul(x, 2)], 3), 1),
  'softmax over channels': (x) => tf.softmax(x),
  sigmoid: (x) => tf.sigmoid(x),
  'clipByValue': (x) => tf.clipByValue(x, -0.5, 0.5),
  'mean / sum over space': (x) => tf.add(tf.mean(x, [1, 2]), tf.sum(x, [1, 2])),
  'log(1 + x²)': (x) => tf.log(tf.add(tf.square(x), 1)),
  'where(x > 0, x, 0.1x)': (x) => tf.where(tf.greater(x, 0), x, tf.mul(x, 0.1)),
  'gather class channel': (x) => tf.gather(tf.softmax(x), [2], 3)
}

describe('input gradients through segmentation layers: wasm equals cpu', () => {
  for (const [i, [name, layer]] of Object.entries(LAYERS).entries()) {
    it(name, async () => {
      const x = rand(size(X), 800 + i)
      const run = (b: 'cpu' | 'wasm') =>
        runOn(b, () => {
          const p = params()
          const y0 = tf.tidy(() => layer(tf.zeros(X), p))
          const r = tf.tensor(rand(y0.size, 900 + i), y0.shape)
          return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer(t as tf.Tensor4D, p), r)))(tf.tensor(x, X))
        })
      const [wasm] = await run('wasm')
      const [cpu] = await run('cpu')
      expect(wasm.every(Number.isFinite)).toBe(true)
      // batchNorm in training mode differentiates through the batch variance: longer float32 chains.
      expectClose(wasm, cpu, name, 2e-4, 2e-5)
    })
  }
})

describe('weight gradients (training) on wasm equal cpu', () => {
  const cases: Record<string, (x: tf.Tensor4D, v: Record<string, tf.Variable>) => tf.Tensor> = {
    'conv2d s2 + bias': (x, v) => tf.add(tf.conv2d(x, v.w as tf.Tensor4D, 2, 'same'), v.b),
    'fused conv2d + bias': (x, v) => tf.fused.conv2d({ x, filter: v.w as tf.Tensor4D, bias: v.b, strides: 1, pad: 'same' }),
    'dilated conv2d': (x, v) => tf.conv2d(x, v.w as tf.Tensor4D, 1, 'same', 'NHWC', 2),
    'depthwise + pointwise (separable)': (x, v) => tf.separableConv2d(x, v.dw as tf.Tensor4D, v.pw as tf.Tensor4D, 1, 'same'),
    'dilated depthwise': (x, v) => tf.depthwiseConv2d(x, v.dw as tf.Tensor4D, 1, 'same', 'NHWC', 2),
    'conv2dTranspose': (x, v) => tf.conv2dTranspose(x, v.tw as tf.Tensor4D, [2, 16, 16, 5], 2, 'same'),
    'batchNorm scale/offset': (x, v) => {
      const m = tf.moments(x, [0, 1, 2])
      return tf.batchNorm(x, m.mean, m.variance, v.beta as tf.Tensor1D, v.gamma as tf.Tensor1D, 1e-3)
    }
  }
  for (const [i, [name, layer]] of Object.entries(cases).entries()) {
    it(name, async () => {
      const x = rand(size(X), 1000 + i)
      const run = (b: 'cpu' | 'wasm') =>
        runOn(b, () => {
          const p = params()
          const vars = Object.fromEntries(Object.entries(p).map(([k, t]) => [k, tf.variable(t, true, `${b}_${name}_${k}`)]))
          try {
            const xt = tf.tensor4d(x, X)
            const y0 = tf.tidy(() => layer(xt, vars))
            const r = tf.tensor(rand(y0.size, 1100 + i), y0.shape)
            const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer(xt, vars), r)) as tf.Scalar)
            return Object.keys(grads)
              .sort()
              .map((k) => grads[k])
          } finally {
            Object.values(vars).forEach((v) => v.dispose())
          }
        })
      const wasm = await run('wasm')
      const cpu = await run('cpu')
      expect(wasm.length).toBeGreaterThan(0)
      expect(wasm.length).toBe(cpu.length)
      wasm.forEach((g, k) => expectClose(g, cpu[k], `${name} grad ${k}`, 2e-4, 2e-5))
    })
  }
})

describe('a small conv net with dilated and depthwise layers', () => {
  /** DeepLab-like toy: conv → BN → relu6 → dilated depthwise → pointwise → maxPool → dilated conv → upsample → concat → 1×1 → softmax. */
  function net(x: tf.Tensor4D, p: Record<string, tf.Tensor>, smooth: boolean): tf.Tensor {
    const act = (t: tf.Tensor) => (smooth ? tf.tanh(t) : tf.relu6(t))
    let h: tf.Tensor = tf.conv2d(x, p.c1 as tf.Tensor4D, 1, 'same')
    const m = tf.moments(h, [0, 1, 2])
    h = act(tf.batchNorm(h, m.mean, m.variance, p.beta as tf.Tensor1D, p.gamma as tf.Tensor1D, 1e-3))
    h = tf.depthwiseConv2d(h as tf.Tensor4D, p.dw as tf.Tensor4D, 1, 'same', 'NHWC', 2)
    h = act(tf.conv2d(h as tf.Tensor4D, p.pw as tf.Tensor4D, 1, 'same'))
    const skip = h
    h = smooth ? tf.avgPool(h as tf.Tensor4D, 2, 2, 'same') : tf.maxPool(h as tf.Tensor4D, 2, 2, 'same')
    h = act(tf.fused.conv2d({ x: h as tf.Tensor4D, filter: p.c2 as tf.Tensor4D, bias: p.b2 as tf.Tensor1D, strides: 1, pad: 'same', dilations: 2 }))
    h = tf.image.resizeBilinear(h as tf.Tensor4D, [x.shape[1], x.shape[2]], false, true)
    h = tf.concat([h, skip], 3)
    return tf.softmax(tf.conv2d(h as tf.Tensor4D, p.head as tf.Tensor4D, 1, 'same'))
  }
  const shapes: Record<string, number[]> = {
    c1: [3, 3, 2, 4],
    gamma: [4],
    beta: [4],
    dw: [3, 3, 4, 1],
    pw: [1, 1, 4, 6],
    c2: [3, 3, 6, 6],
    b2: [6],
    head: [1, 1, 12, 3]
  }
  const XS: Shape4 = [2, 12, 12, 2]
  const makeParams = () => Object.fromEntries(Object.entries(shapes).map(([k, s], i) => [k, tf.tensor(rand(size(s), 1200 + i).map((v) => v * 0.7), s)]))
  const R = rand(2 * 12 * 12 * 3, 1300)
  /** Mean class-1 probability over a request mask, the shape of the saliency objective. */
  const score = (x: tf.Tensor, p: Record<string, tf.Tensor>, smooth: boolean) =>
    tf.sum(tf.mul(tf.gather(net(x as tf.Tensor4D, p, smooth), [1], 3), tf.tensor(R.slice(0, 2 * 12 * 12), [2, 12, 12, 1]))) as tf.Scalar

  it('input and weight gradients on wasm equal cpu (relu6, maxPool)', async () => {
    const x = rand(size(XS), 1310)
    const run = (b: 'cpu' | 'wasm') =>
      runOn(b, () => {
        const p = makeParams()
        const keys = Object.keys(p)
        const fn = (xt: tf.Tensor, ...ws: tf.Tensor[]) => score(xt, Object.fromEntries(keys.map((k, i) => [k, ws[i]])), false)
        return tf.grads(fn)([tf.tensor(x, XS), ...keys.map((k) => p[k])])
      })
    const wasm = await run('wasm')
    const cpu = await run('cpu')
    wasm.forEach((g, k) => expectClose(g, cpu[k], `grad ${k}`, 5e-4, 1e-6))
  })

  it('the wasm input gradient agrees with finite differences (smooth variant: tanh, avgPool)', async () => {
    const x = rand(size(XS), 1320)
    const v = rand(size(XS), 1321)
    const fd = await directionalFD((t) => score(t, makeParams(), true), x, XS, v, 1e-2)
    const [g] = await runOn('wasm', () => tf.grad((t: tf.Tensor) => score(t, makeParams(), true))(tf.tensor(x, XS)))
    const analytic = dot(g, v)
    // float32 central difference with eps 1e-2: agreement to ~1e-4 observed; 1.6e-3 here would flag a wrong layer.
    expect(Math.abs(analytic - fd)).toBeLessThan(5e-4 + 5e-3 * Math.abs(fd))
  })
})

describe('tfjs-layers training with atrous layers', () => {
  /** Three SGD steps of a small model; tf.layers.conv2d with a bias takes tf.fused.conv2d, so this covers that path. */
  async function train(backend: 'cpu' | 'wasm'): Promise<number[]> {
    await tf.setBackend(backend)
    const input = tf.input({ shape: [16, 16, 2] })
    const init = (seed: number) => tf.initializers.glorotUniform({ seed })
    let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', dilationRate: 2, kernelInitializer: init(1) }).apply(input) as tf.SymbolicTensor
    h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor
    h = tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor
    h = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', dilationRate: 2, depthwiseInitializer: init(2) }).apply(h) as tf.SymbolicTensor
    const skip = h
    h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor
    h = tf.layers
      .separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', dilationRate: 2, depthwiseInitializer: init(3), pointwiseInitializer: init(4) })
      .apply(h) as tf.SymbolicTensor
    h = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }).apply(h) as tf.SymbolicTensor
    h = tf.layers.concatenate().apply([h, skip]) as tf.SymbolicTensor
    h = tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, padding: 'same', activation: 'softmax', kernelInitializer: init(5) }).apply(h) as tf.SymbolicTensor
    const model = tf.model({ inputs: input, outputs: h })
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' })
    const x = tf.tensor4d(rand(4 * 16 * 16 * 2, 1400).map((v) => (v + 1) / 2), [4, 16, 16, 2])
    const labels = tf.tensor3d(Int32Array.from(rand(4 * 16 * 16, 1401), (v) => Math.min(2, Math.floor((v + 1) * 1.5))), [4, 16, 16], 'int32')
    const y = tf.oneHot(labels, 3)
    try {
      const history = await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 })
      return history.history.loss as number[]
    } finally {
      tf.dispose([x, labels, y])
      model.dispose()
    }
  }

  it('fits on wasm with the same losses as on cpu', async () => {
    const wasm = await train('wasm')
    const cpu = await train('cpu')
    expect(wasm).toHaveLength(3)
    expect(wasm[2]).toBeLessThan(wasm[0])
    expectClose(wasm, cpu, 'losses', 1e-4, 1e-6)
  })
})
