import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { conv2DBackpropFilterConfig } from '@main/engine/kernels/wasm/Conv2DBackpropFilter'
import { conv2DBackpropInputConfig } from '@main/engine/kernels/wasm/Conv2DBackpropInput'
import { directionalFD, dot, expandFilter, expectClose, rand, runOn, sampleExpanded, setupBackends, size, type BackendName } from './helpers'

type Shape4 = [number, number, number, number]
type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding

interface Case {
  name: string
  x: Shape4
  w: Shape4
  strides: number | [number, number]
  pad: Pad
}

// Odd and even sizes, even filters (asymmetric 'same' padding), 1×1 filters, explicit padding, unequal strides,
// and padding larger than the filter reach (whole padded rows never meet a tap).
const CASES: Case[] = [
  { name: '3x3 s1 same', x: [2, 7, 9, 3], w: [3, 3, 3, 5], strides: 1, pad: 'same' },
  { name: '3x3 s2 same', x: [2, 7, 9, 3], w: [3, 3, 3, 5], strides: 2, pad: 'same' },
  { name: '3x3 s1 valid', x: [2, 7, 9, 3], w: [3, 3, 3, 5], strides: 1, pad: 'valid' },
  { name: '3x3 s2 valid', x: [2, 8, 9, 4], w: [3, 3, 4, 2], strides: 2, pad: 'valid' },
  { name: '2x2 s1 same (even filter)', x: [1, 6, 5, 3], w: [2, 2, 3, 4], strides: 1, pad: 'same' },
  { name: '4x4 s2 same (even filter)', x: [2, 8, 8, 2], w: [4, 4, 2, 3], strides: 2, pad: 'same' },
  { name: '1x1 s2 valid', x: [3, 6, 7, 4], w: [1, 1, 4, 6], strides: 2, pad: 'valid' },
  { name: '5x5 s1 same, 1 channel', x: [1, 8, 8, 1], w: [5, 5, 1, 2], strides: 1, pad: 'same' },
  { name: '3x3 strides [1,2] same, 8 channels', x: [2, 6, 6, 8], w: [3, 3, 8, 8], strides: [1, 2], pad: 'same' },
  {
    name: '3x3 s1 explicit asymmetric',
    x: [2, 5, 6, 3],
    w: [3, 3, 3, 2],
    strides: 1,
    pad: [
      [0, 0],
      [2, 1],
      [0, 3],
      [0, 0]
    ]
  },
  {
    name: '3x3 s2 explicit, pad beyond filter reach',
    x: [2, 6, 5, 2],
    w: [3, 3, 2, 3],
    strides: 2,
    pad: [
      [0, 0],
      [4, 0],
      [1, 4],
      [0, 0]
    ]
  }
]

function outShape(c: Case): Shape4 {
  return tf.backend_util.computeConv2DInfo(c.x, c.w, c.strides, 1, c.pad).outShape as Shape4
}

async function backpropInput(backend: BackendName, c: Case, dy: Float32Array, w: Float32Array): Promise<Float32Array> {
  const [out] = await runOn(backend, () =>
    tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: tf.tensor(dy, outShape(c)), filter: tf.tensor(w, c.w) }, {
      strides: c.strides,
      pad: c.pad,
      dataFormat: 'NHWC',
      inputShape: c.x
    } as unknown as tf.NamedAttrMap) as tf.Tensor
  )
  return out
}

async function backpropFilter(backend: BackendName, c: Case, x: Float32Array, dy: Float32Array): Promise<Float32Array> {
  const [out] = await runOn(backend, () =>
    tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: tf.tensor(x, c.x), dy: tf.tensor(dy, outShape(c)) }, {
      strides: c.strides,
      pad: c.pad,
      dataFormat: 'NHWC',
      filterShape: c.w
    } as unknown as tf.NamedAttrMap) as tf.Tensor
  )
  return out
}

beforeAll(setupBackends)

describe('wasm kernel registration', () => {
  it('replaces the stock Conv2DBackpropInput and fills in Conv2DBackpropFilter', () => {
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')?.kernelFunc).toBe(conv2DBackpropInputConfig.kernelFunc)
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')?.kernelFunc).toBe(conv2DBackpropFilterConfig.kernelFunc)
  })
})

describe('Conv2DBackpropInput / Conv2DBackpropFilter on wasm against the cpu kernels', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      const x = rand(size(c.x), 10 + i)
      const w = rand(size(c.w), 20 + i)
      const dy = rand(size(outShape(c)), 30 + i)
      expectClose(await backpropInput('wasm', c, dy, w), await backpropInput('cpu', c, dy, w), 'dx')
      expectClose(await backpropFilter('wasm', c, x, dy), await backpropFilter('cpu', c, x, dy), 'dw')
    })
  }

  it('handles NCHW by transposing (against the cpu kernel)', async () => {
    const xShape: Shape4 = [2, 3, 7, 6]
    const wShape: Shape4 = [3, 3, 3, 4]
    const dyShape: Shape4 = [2, 4, 4, 3]
    const dy = rand(size(dyShape), 41)
    const w = rand(size(wShape), 42)
    const run = (b: BackendName) =>
      runOn(b, () =>
        tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: tf.tensor(dy, dyShape), filter: tf.tensor(w, wShape) }, {
          strides: 2,
          pad: 'same',
          dataFormat: 'NCHW',
          inputShape: xShape
        } as unknown as tf.NamedAttrMap) as tf.Tensor
      )
    expectClose((await run('wasm'))[0], (await run('cpu'))[0], 'dx NCHW')
  })
})

describe('Conv2D backprop on wasm against finite differences', () => {
  // L(x, w) = Σ dy ∘ conv(x, w) is linear in each argument, so its gradients are the two backprop kernels.
  for (const c of [CASES[1], CASES[5], CASES[10]]) {
    it(c.name, async () => {
      const x = rand(size(c.x), 51)
      const w = rand(size(c.w), 52)
      const dy = rand(size(outShape(c)), 53)
      const conv = (xt: tf.Tensor, wt: tf.Tensor) => tf.conv2d(xt as tf.Tensor4D, wt as tf.Tensor4D, c.strides, c.pad)
      const loss = (xt: tf.Tensor, wt: tf.Tensor) => tf.sum(tf.mul(conv(xt, wt), tf.tensor(dy, outShape(c)))) as tf.Scalar
      const vx = rand(size(c.x), 54)
      const vw = rand(size(c.w), 55)
      const fdX = await directionalFD((t) => loss(t, tf.tensor(w, c.w)), x, c.x, vx, 0.5)
      const fdW = await directionalFD((t) => loss(tf.tensor(x, c.x), t), w, c.w, vw, 0.5)
      const dx = await backpropInput('wasm', c, dy, w)
      const dw = await backpropFilter('wasm', c, x, dy)
      expect(dot(dx, vx)).toBeCloseTo(fdX, 2)
      expect(dot(dw, vw)).toBeCloseTo(fdW, 2)
    })
  }
})

interface DilatedCase {
  name: string
  x: Shape4
  w: Shape4
  dilations: number | [number, number]
  pad: Pad
}

const DILATED: DilatedCase[] = [
  { name: 'd2 same', x: [2, 9, 8, 3], w: [3, 3, 3, 4], dilations: 2, pad: 'same' },
  { name: 'd2 valid', x: [2, 9, 8, 3], w: [3, 3, 3, 4], dilations: 2, pad: 'valid' },
  { name: 'd[2,3] same, even filter', x: [1, 10, 11, 2], w: [2, 2, 2, 5], dilations: [2, 3], pad: 'same' },
  {
    name: 'd3 explicit',
    x: [2, 7, 7, 4],
    w: [3, 3, 4, 2],
    dilations: 3,
    pad: [
      [0, 0],
      [3, 2],
      [1, 3],
      [0, 0]
    ]
  }
]

/** Gradients of Σ r ∘ conv2d(x, w) with respect to x and w. */
function convGrads(x: tf.Tensor, w: tf.Tensor, r: tf.Tensor, dilations: number | [number, number], pad: Pad): tf.Tensor[] {
  const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad, 'NHWC', dilations), r))
  return tf.grads(f)([x, w])
}

describe('dilated conv2d gradients (tfjs refuses them)', () => {
  for (const [i, c] of DILATED.entries()) {
    it(`${c.name}: wasm and cpu match tfjs's undilated kernels on the zero-expanded filter, and finite differences`, async () => {
      const [dh, dw] = typeof c.dilations === 'number' ? [c.dilations, c.dilations] : c.dilations
      const out = tf.backend_util.computeConv2DInfo(c.x, c.w, 1, c.dilations, c.pad).outShape
      const x = rand(size(c.x), 60 + i)
      const w = rand(size(c.w), 70 + i)
      const r = rand(size(out), 80 + i)
      const big = expandFilter(w, c.w, dh, dw)
      const [refDx, refDwBig] = await runOn('cpu', () => convGrads(tf.tensor(x, c.x), tf.tensor(big.values, big.shape), tf.tensor(r, out), 1, c.pad))
      const refDw = sampleExpanded(refDwBig, c.w, dh, dw)
      for (const backend of ['wasm', 'cpu'] as const) {
        const [dx, dwGrad] = await runOn(backend, () => convGrads(tf.tensor(x, c.x), tf.tensor(w, c.w), tf.tensor(r, out), c.dilations, c.pad))
        expectClose(dx, refDx, `${backend} dx`)
        expectClose(dwGrad, refDw, `${backend} dw`)
      }
      const vx = rand(size(c.x), 90 + i)
      const fd = await directionalFD(
        (t) => tf.sum(tf.mul(tf.conv2d(t as tf.Tensor4D, tf.tensor(w, c.w) as tf.Tensor4D, 1, c.pad, 'NHWC', c.dilations), tf.tensor(r, out))),
        x,
        c.x,
        vx,
        0.5
      )
      const [dxWasm] = await runOn('wasm', () => convGrads(tf.tensor(x, c.x), tf.tensor(w, c.w), tf.tensor(r, out), c.dilations, c.pad).slice(0, 1))
      expect(dot(dxWasm, vx)).toBeCloseTo(fd, 2)
    })
  }
})
