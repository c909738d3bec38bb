import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { directionalFD, dot, expandFilter, expectClose, rand, runOn, sampleExpanded, setupBackends, size } from './helpers'

type Shape4 = [number, number, number, number]

beforeAll(setupBackends)

interface Case {
  name: string
  depthwise: boolean
  x: Shape4
  w: Shape4
  strides: number
  dilations: number
  pad: 'same' | 'valid'
  bias: boolean
}

const CASES: Case[] = [
  { name: 'conv, bias, s2', depthwise: false, x: [2, 8, 7, 3], w: [3, 3, 3, 4], strides: 2, dilations: 1, pad: 'same', bias: true },
  { name: 'conv, bias, d2', depthwise: false, x: [2, 9, 8, 3], w: [3, 3, 3, 4], strides: 1, dilations: 2, pad: 'same', bias: true },
  { name: 'conv, no bias, d3 valid', depthwise: false, x: [1, 10, 10, 2], w: [3, 3, 2, 3], strides: 1, dilations: 3, pad: 'valid', bias: false },
  { name: 'depthwise, bias, s2', depthwise: true, x: [2, 8, 8, 4], w: [3, 3, 4, 1], strides: 2, dilations: 1, pad: 'same', bias: true },
  { name: 'depthwise, bias, d2, multiplier 2', depthwise: true, x: [2, 9, 9, 3], w: [3, 3, 3, 2], strides: 1, dilations: 2, pad: 'same', bias: true }
]

function fusedOut(c: Case): Shape4 {
  return tf.backend_util.computeConv2DInfo(c.x, c.w, c.strides, c.dilations, c.pad, undefined, c.depthwise).outShape as Shape4
}

/**
 * In gradient mode tfjs runs the fused op (and its customGrad, which rejects dilation) for linear activations;
 * that is the path under test.
 */
function fusedLoss(c: Case, r: tf.Tensor, dilations = c.dilations) {
  return (x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor) => {
    const args = { x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: c.strides, pad: c.pad, dilations, bias: b }
    const y = c.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args)
    return tf.sum(tf.mul(y, r))
  }
}

describe('gradients of tf.fused.conv2d / tf.fused.depthwiseConv2d', () => {
  for (const [i, c] of CASES.entries()) {
    it(`${c.name}: wasm and cpu match tfjs's undilated fused gradient on the zero-expanded filter`, async () => {
      const out = fusedOut(c)
      const channels = out[3]
      const x = rand(size(c.x), 200 + i)
      const w = rand(size(c.w), 210 + i)
      const b = rand(channels, 220 + i)
      const r = rand(size(out), 230 + i)
      const big = expandFilter(w, c.w, c.dilations, c.dilations)
      const inputs = (filter: tf.Tensor) => (c.bias ? [tf.tensor(x, c.x), filter, tf.tensor(b, [channels])] : [tf.tensor(x, c.x), filter])
      const [refDx, refDwBig, refDb] = await runOn('cpu', () => tf.grads(fusedLoss(c, tf.tensor(r, out), 1))(inputs(tf.tensor(big.values, big.shape))))
      const refDw = sampleExpanded(refDwBig, c.w, c.dilations, c.dilations)
      for (const backend of ['wasm', 'cpu'] as const) {
        const [dx, dw, db] = await runOn(backend, () => tf.grads(fusedLoss(c, tf.tensor(r, out)))(inputs(tf.tensor(w, c.w))))
        expectClose(dx, refDx, `${backend} dx`)
        expectClose(dw, refDw, `${backend} dw`)
        if (c.bias) expectClose(db, refDb, `${backend} db`)
      }
    })
  }

  it('a dilated fused conv gradient agrees with finite differences', async () => {
    const c = CASES[1]
    const out = fusedOut(c)
    const x = rand(size(c.x), 240)
    const w = rand(size(c.w), 241)
    const b = rand(out[3], 242)
    const r = rand(size(out), 243)
    const vx = rand(size(c.x), 244)
    const f = fusedLoss(c, tf.tensor(r, out))
    const fd = await directionalFD((t) => f(t, tf.tensor(w, c.w), tf.tensor(b, [out[3]])) as tf.Scalar, x, c.x, vx, 0.5)
    const [dx] = await runOn('wasm', () => tf.grads(fusedLoss(c, tf.tensor(r, out)))([tf.tensor(x, c.x), tf.tensor(w, c.w), tf.tensor(b, [out[3]])]).slice(0, 1))
    expect(dot(dx, vx)).toBeCloseTo(fd, 2)
  })

  it('3-D input (reshaped inside the op) gets a 3-D gradient', async () => {
    const x = rand(7 * 7 * 2, 250)
    const w = rand(3 * 3 * 2 * 3, 251)
    const big = expandFilter(w, [3, 3, 2, 3], 2, 2)
    const run = (backend: 'cpu' | 'wasm', filter: Float32Array, shape: Shape4, dilations: number) =>
      runOn(backend, () =>
        tf.grad((t: tf.Tensor) =>
          tf.sum(tf.square(tf.fused.conv2d({ x: t as tf.Tensor3D, filter: tf.tensor4d(filter, shape), strides: 1, pad: 'same', dilations })))
        )(tf.tensor3d(x, [7, 7, 2]))
      )
    const [wasm] = await run('wasm', w, [3, 3, 2, 3], 2)
    expect(wasm.length).toBe(7 * 7 * 2)
    expectClose(wasm, (await run('cpu', big.values, big.shape, 1))[0], 'dx 3-D')
  })
})
