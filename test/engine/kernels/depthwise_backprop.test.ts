import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { directionalFD, dot, expandFilter, expectClose, rand, runOn, sampleExpanded, setupBackends, size, type BackendName } from './helpers'

type Shape4 = [number, number, number, number]
type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding

interface Case {
  name: string
  x: Shape4
  /** [kh, kw, channels, multiplier] */
  w: Shape4
  strides: number | [number, number]
  dilations: number | [number, number]
  pad: Pad
}

const CASES: Case[] = [
  { name: '3x3 s1 same m1', x: [2, 7, 9, 3], w: [3, 3, 3, 1], strides: 1, dilations: 1, pad: 'same' },
  { name: '3x3 s2 same m1', x: [2, 7, 9, 4], w: [3, 3, 4, 1], strides: 2, dilations: 1, pad: 'same' },
  { name: '3x3 s2 valid m2', x: [2, 8, 7, 3], w: [3, 3, 3, 2], strides: 2, dilations: 1, pad: 'valid' },
  { name: '3x3 s1 valid m3, 1 channel', x: [3, 6, 6, 1], w: [3, 3, 1, 3], strides: 1, dilations: 1, pad: 'valid' },
  { name: '4x4 s2 same m1 (even filter)', x: [2, 8, 8, 5], w: [4, 4, 5, 1], strides: 2, dilations: 1, pad: 'same' },
  { name: '3x3 d2 same m1', x: [2, 9, 8, 4], w: [3, 3, 4, 1], strides: 1, dilations: 2, pad: 'same' },
  { name: '3x3 d2 valid m2', x: [2, 9, 9, 3], w: [3, 3, 3, 2], strides: 1, dilations: 2, pad: 'valid' },
  { name: '2x2 d[3,2] same m1 (even filter)', x: [1, 10, 9, 2], w: [2, 2, 2, 1], strides: 1, dilations: [3, 2], pad: 'same' },
  {
    name: '3x3 s2 explicit m2',
    x: [2, 7, 6, 2],
    w: [3, 3, 2, 2],
    strides: 2,
    dilations: 1,
    pad: [
      [0, 0],
      [1, 2],
      [3, 0],
      [0, 0]
    ]
  }
]

const dil = (d: number | [number, number]): [number, number] => (typeof d === 'number' ? [d, d] : d)
const outShape = (c: Case): Shape4 => tf.backend_util.computeConv2DInfo(c.x, c.w, c.strides, c.dilations, c.pad, undefined, true).outShape as Shape4

function kernels(c: Case, x: tf.Tensor, w: tf.Tensor, dy: tf.Tensor): tf.Tensor[] {
  const common = { strides: c.strides, dilations: c.dilations, pad: c.pad }
  return [
    tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy, filter: w }, { ...common, inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor,
    tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x, dy }, { ...common, filterShape: c.w } as unknown as tf.NamedAttrMap) as tf.Tensor
  ]
}

/** Gradients of Σ r ∘ depthwiseConv2d(x, w) with respect to x and w, through tf.grads. */
function grads(c: Case, x: tf.Tensor, w: tf.Tensor, r: tf.Tensor, filterDilations = c.dilations): tf.Tensor[] {
  const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad, 'NHWC', filterDilations), r))
  return tf.grads(f)([x, w])
}

beforeAll(setupBackends)

describe('DepthwiseConv2dNativeBackprop{Input,Filter} on wasm against the cpu kernels', () => {
  // tfjs's cpu kernels take a dilation attribute but compute a wrong dx with it (measured: errors of order 1), so
  // only undilated cases have a cpu-kernel reference; dilated ones are checked against the expanded filter below.
  for (const [i, c] of CASES.entries()) {
    if (!tf.backend_util.tupleValuesAreOne(c.dilations)) continue
    it(c.name, async () => {
      const x = rand(size(c.x), 100 + i)
      const w = rand(size(c.w), 110 + i)
      const dy = rand(size(outShape(c)), 120 + i)
      const run = (b: BackendName) => runOn(b, () => kernels(c, tf.tensor(x, c.x), tf.tensor(w, c.w), tf.tensor(dy, outShape(c))))
      const [dxW, dwW] = await run('wasm')
      const [dxC, dwC] = await run('cpu')
      expectClose(dxW, dxC, 'dx')
      expectClose(dwW, dwC, 'dw')
    })
  }
})

describe('depthwise gradients through tf.grads (tfjs refuses dilation > 1)', () => {
  for (const [i, c] of CASES.entries()) {
    it(`${c.name}: wasm and cpu match the undilated cpu gradient on the zero-expanded filter, and finite differences`, async () => {
      const [dh, dw] = dil(c.dilations)
      const out = outShape(c)
      const x = rand(size(c.x), 130 + i)
      const w = rand(size(c.w), 140 + i)
      const r = rand(size(out), 150 + i)
      const big = expandFilter(w, c.w, dh, dw)
      const [refDx, refDwBig] = await runOn('cpu', () => grads(c, tf.tensor(x, c.x), tf.tensor(big.values, big.shape), tf.tensor(r, out), 1))
      const refDw = sampleExpanded(refDwBig, c.w, dh, dw)
      for (const backend of ['wasm', 'cpu'] as const) {
        const [gx, gw] = await runOn(backend, () => grads(c, tf.tensor(x, c.x), tf.tensor(w, c.w), tf.tensor(r, out)))
        expectClose(gx, refDx, `${backend} dx`)
        expectClose(gw, refDw, `${backend} dw`)
      }
      // Linear in w, so the central difference is exact up to rounding.
      const vw = rand(size(c.w), 160 + i)
      const fd = await directionalFD(
        (t) => tf.sum(tf.mul(tf.depthwiseConv2d(tf.tensor(x, c.x) as tf.Tensor4D, t as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilations), tf.tensor(r, out))),
        w,
        c.w,
        vw,
        0.5
      )
      const [, gwWasm] = await runOn('wasm', () => grads(c, tf.tensor(x, c.x), tf.tensor(w, c.w), tf.tensor(r, out)))
      expect(dot(gwWasm, vw)).toBeCloseTo(fd, 2)
    })
  }
})

describe('separable convolution', () => {
  it('input and weight gradients on wasm match cpu and finite differences', async () => {
    const xs: Shape4 = [2, 8, 8, 3]
    const dws: Shape4 = [3, 3, 3, 2]
    const pws: Shape4 = [1, 1, 6, 4]
    const x = rand(size(xs), 171)
    const dwv = rand(size(dws), 172)
    const pwv = rand(size(pws), 173)
    const r = rand(2 * 4 * 4 * 4, 174)
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.mul(tf.separableConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, 2, 'same'), tf.tensor(r, [2, 4, 4, 4])))
    const run = (b: BackendName) => runOn(b, () => tf.grads(f)([tf.tensor(x, xs), tf.tensor(dwv, dws), tf.tensor(pwv, pws)]))
    const wasm = await run('wasm')
    const cpu = await run('cpu')
    for (let k = 0; k < 3; k++) expectClose(wasm[k], cpu[k], `grad ${k}`)
    const vx = rand(size(xs), 175)
    const fd = await directionalFD((t) => f(t, tf.tensor(dwv, dws), tf.tensor(pwv, pws)) as tf.Scalar, x, xs, vx, 0.5)
    expect(dot(wasm[0], vx)).toBeCloseTo(fd, 2)
  })
})
