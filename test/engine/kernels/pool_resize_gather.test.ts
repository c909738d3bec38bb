import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { directionalFD, dot, expectClose, rand, runOn, setupBackends, size, type BackendName } from './helpers'

type Shape4 = [number, number, number, number]

beforeAll(setupBackends)

/**
 * Full gradient of a function that is linear in x, one central difference per element (exact up to rounding for
 * linear functions), computed on cpu.
 */
async function linearGradientByFD(f: (x: tf.Tensor) => tf.Scalar, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const [g] = await runOn('cpu', () => {
    const out = new Float32Array(x.length)
    for (let i = 0; i < x.length; i++) {
      const p = Float32Array.from(x)
      const m = Float32Array.from(x)
      p[i] += 1
      m[i] -= 1
      out[i] = (f(tf.tensor(p, shape)).dataSync()[0] - f(tf.tensor(m, shape)).dataSync()[0]) / 2
    }
    return tf.tensor(out)
  })
  return g
}

const gradOn = (backend: BackendName, f: (x: tf.Tensor) => tf.Scalar, x: Float32Array, shape: number[]) =>
  runOn(backend, () => tf.grad(f)(tf.tensor(x, shape))).then((v) => v[0])

describe('maxPool gradient (MaxPoolGrad kernel)', () => {
  const cases: { name: string; x: Shape4; k: number; s: number; pad: 'same' | 'valid' }[] = [
    { name: '2x2 s2 same, odd size', x: [2, 7, 9, 3], k: 2, s: 2, pad: 'same' },
    { name: '2x2 s2 valid', x: [2, 8, 8, 5], k: 2, s: 2, pad: 'valid' },
    { name: '3x3 s2 same (overlapping windows)', x: [2, 9, 8, 2], k: 3, s: 2, pad: 'same' },
    { name: '3x3 s1 same', x: [1, 6, 6, 1], k: 3, s: 1, pad: 'same' }
  ]
  for (const [i, c] of cases.entries()) {
    it(`${c.name}: wasm matches the cpu kernel, on distinct values and on ties (ReLU zeros, repeated values)`, async () => {
      const out = tf.backend_util.computePool2DInfo(c.x, c.k, c.s, 1, c.pad).outShape
      const r = rand(size(out), 300 + i)
      const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, c.k, c.s, c.pad), tf.tensor(r, out))) as tf.Scalar
      // A shuffled ramp: all values distinct with gaps of 2/n, so the finite difference below crosses no kink.
      const n = size(c.x)
      const order = Array.from(rand(n, 310 + i), (v, j) => [v, j] as const).sort((a, b) => a[0] - b[0])
      const distinct = new Float32Array(n)
      order.forEach(([, j], rank) => (distinct[j] = (2 * rank) / n - 1))
      // Quantised and clipped at 0: many windows hold several equal maxima, some are all zero.
      const ties = distinct.map((v) => Math.max(0, Math.round(v * 2) / 2))
      for (const x of [distinct, ties]) expectClose(await gradOn('wasm', f, x, c.x), await gradOn('cpu', f, x, c.x), 'dx')
      const v = rand(size(c.x), 320 + i)
      const fd = await directionalFD(f, distinct, c.x, v, 1e-3)
      expect(dot(await gradOn('wasm', f, distinct, c.x), v)).toBeCloseTo(fd, 2)
    })
  }
})

describe('avgPool gradient', () => {
  const cases: { name: string; x: Shape4; k: number; s: number; pad: 'same' | 'valid' }[] = [
    { name: '2x2 s2 same, odd size (partial border windows)', x: [2, 5, 3, 2], k: 2, s: 2, pad: 'same' },
    { name: '3x3 s1 same (every border window partial)', x: [1, 4, 5, 2], k: 3, s: 1, pad: 'same' },
    { name: '2x2 s2 valid', x: [2, 4, 4, 3], k: 2, s: 2, pad: 'valid' }
  ]
  for (const [i, c] of cases.entries()) {
    it(`${c.name}: cpu and wasm both equal the finite-difference gradient element by element`, async () => {
      const out = tf.backend_util.computePool2DInfo(c.x, c.k, c.s, 1, c.pad).outShape
      const r = rand(size(out), 400 + i)
      const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(t as tf.Tensor4D, c.k, c.s, c.pad), tf.tensor(r, out))) as tf.Scalar
      const x = rand(size(c.x), 410 + i)
      const ref = await linearGradientByFD(f, x, c.x)
      expectClose(await gradOn('cpu', f, x, c.x), ref, 'cpu dx', 1e-4, 1e-5)
      expectClose(await gradOn('wasm', f, x, c.x), ref, 'wasm dx', 1e-4, 1e-5)
    })
  }
})

describe('resizeBilinear gradient', () => {
  const cases: { name: string; x: Shape4; size: [number, number]; alignCorners: boolean; halfPixelCenters: boolean }[] = [
    { name: 'x2 up, half-pixel centres', x: [2, 3, 4, 2], size: [6, 8], alignCorners: false, halfPixelCenters: true },
    { name: 'arbitrary size, half-pixel centres', x: [1, 4, 3, 3], size: [7, 10], alignCorners: false, halfPixelCenters: true },
    { name: '4x4 mask to 16x16, half-pixel centres', x: [1, 4, 4, 1], size: [16, 16], alignCorners: false, halfPixelCenters: true },
    { name: 'arbitrary size, tfjs default', x: [2, 3, 3, 1], size: [5, 7], alignCorners: false, halfPixelCenters: false },
    { name: 'arbitrary size, align corners', x: [1, 3, 4, 2], size: [5, 9], alignCorners: true, halfPixelCenters: false },
    { name: 'downsampling, half-pixel centres', x: [1, 7, 6, 2], size: [3, 4], alignCorners: false, halfPixelCenters: true }
  ]
  // tfjs's own kernels fail all but the default case: both ignore halfPixelCenters, and the cpu one swaps height
  // and width of its output.
  for (const [i, c] of cases.entries()) {
    it(`${c.name}: wasm and cpu equal the finite-difference gradient`, async () => {
      const out = [c.x[0], ...c.size, c.x[3]]
      const r = rand(size(out), 500 + i)
      const f = (t: tf.Tensor) =>
        tf.sum(tf.mul(tf.image.resizeBilinear(t as tf.Tensor4D, c.size, c.alignCorners, c.halfPixelCenters), tf.tensor(r, out))) as tf.Scalar
      const x = rand(size(c.x), 510 + i)
      // The wasm forward pass (XNNPACK) must sample like the cpu one for a cpu finite difference to judge it.
      const forward = (b: BackendName) =>
        runOn(b, () => tf.image.resizeBilinear(tf.tensor(x, c.x) as tf.Tensor4D, c.size, c.alignCorners, c.halfPixelCenters))
      expectClose((await forward('wasm'))[0], (await forward('cpu'))[0], 'forward')
      const ref = await linearGradientByFD(f, x, c.x)
      expectClose(await gradOn('cpu', f, x, c.x), ref, 'cpu dx', 1e-4, 1e-5)
      expectClose(await gradOn('wasm', f, x, c.x), ref, 'wasm dx', 1e-4, 1e-5)
    })
  }
})

describe('resizeNearestNeighbor gradient', () => {
  const cases: { name: string; x: Shape4; size: [number, number]; alignCorners: boolean; halfPixelCenters: boolean }[] = [
    { name: 'arbitrary size, half-pixel centres', x: [2, 3, 4, 2], size: [7, 9], alignCorners: false, halfPixelCenters: true },
    { name: 'x2 up, tfjs default', x: [1, 4, 3, 2], size: [8, 6], alignCorners: false, halfPixelCenters: false },
    { name: 'arbitrary size, align corners', x: [1, 3, 4, 1], size: [5, 9], alignCorners: true, halfPixelCenters: false }
  ]
  // tfjs's kernels get the half-pixel case wrong on both backends.
  for (const [i, c] of cases.entries()) {
    it(`${c.name}: wasm and cpu equal the finite-difference gradient`, async () => {
      const out = [c.x[0], ...c.size, c.x[3]]
      const r = rand(size(out), 550 + i)
      const f = (t: tf.Tensor) =>
        tf.sum(tf.mul(tf.image.resizeNearestNeighbor(t as tf.Tensor4D, c.size, c.alignCorners, c.halfPixelCenters), tf.tensor(r, out))) as tf.Scalar
      const x = rand(size(c.x), 560 + i)
      const forward = (b: BackendName) =>
        runOn(b, () => tf.image.resizeNearestNeighbor(tf.tensor(x, c.x) as tf.Tensor4D, c.size, c.alignCorners, c.halfPixelCenters))
      expectClose((await forward('wasm'))[0], (await forward('cpu'))[0], 'forward')
      const ref = await linearGradientByFD(f, x, c.x)
      expectClose(await gradOn('cpu', f, x, c.x), ref, 'cpu dx', 1e-4, 1e-5)
      expectClose(await gradOn('wasm', f, x, c.x), ref, 'wasm dx', 1e-4, 1e-5)
    })
  }
})

describe('gather gradient (UnsortedSegmentSum kernel)', () => {
  it('class-channel selection (axis 3) and repeated row indices (axis 0) match cpu', async () => {
    const shape: Shape4 = [2, 4, 5, 6]
    const x = rand(size(shape), 600)
    const cases: { indices: number[]; axis: number }[] = [
      { indices: [2], axis: 3 },
      { indices: [5, 0, 5, 3], axis: 3 },
      { indices: [1, 1, 0], axis: 0 }
    ]
    for (const { indices, axis } of cases) {
      const f = (t: tf.Tensor) => tf.sum(tf.sin(tf.gather(t, tf.tensor1d(indices, 'int32'), axis))) as tf.Scalar
      expectClose(await gradOn('wasm', f, x, shape), await gradOn('cpu', f, x, shape), `gather axis ${axis} [${indices}]`)
    }
  })

  it('the kernel drops out-of-range segment ids, as on cpu', async () => {
    const values = rand(5 * 3, 610)
    const ids = [0, -1, 2, 7, 2]
    const run = (b: BackendName) =>
      runOn(b, () =>
        tf.engine().runKernel(tf.UnsortedSegmentSum, { x: tf.tensor(values, [5, 3]), segmentIds: tf.tensor1d(ids, 'int32') }, {
          numSegments: 4
        } as unknown as tf.NamedAttrMap) as tf.Tensor
      )
    expectClose((await run('wasm'))[0], (await run('cpu'))[0], 'segment sums', 0, 1e-6)
  })
})

describe('Tile kernel (used by the batchNorm gradient)', () => {
  const cases: { shape: number[]; reps: number[] }[] = [
    { shape: [1, 1, 1, 5], reps: [2, 3, 4, 1] },
    { shape: [3, 1], reps: [1, 7] },
    { shape: [2, 3, 4], reps: [2, 1, 3] },
    { shape: [40], reps: [3] },
    { shape: [2, 2], reps: [1, 1] },
    { shape: [2, 3], reps: [0, 2] }
  ]
  for (const c of cases) {
    it(`tile [${c.shape}] by [${c.reps}], float32, int32 and bool, equals cpu`, async () => {
      const v = rand(size(c.shape), 720)
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const values = dtype === 'float32' ? v : v.map((t) => (dtype === 'bool' ? (t > 0 ? 1 : 0) : Math.round(t * 100)))
        const run = (b: BackendName) => runOn(b, () => tf.tile(tf.tensor(values, c.shape, dtype), c.reps))
        expectClose((await run('wasm'))[0], (await run('cpu'))[0], `${dtype} tile`, 0, 0)
      }
    })
  }
})

describe('Slice / SplitV kernels (the gradient of concat)', () => {
  const cases: { shape: number[]; begin: number[]; size: number[] }[] = [
    { shape: [2, 5, 6, 8], begin: [0, 0, 0, 3], size: [-1, -1, -1, 4] },
    { shape: [2, 5, 6, 8], begin: [1, 2, 1, 0], size: [1, 3, 4, -1] },
    { shape: [3, 4, 130], begin: [1, 1, 2], size: [2, 2, 100] },
    { shape: [7], begin: [2], size: [3] },
    { shape: [2, 3, 2, 2, 3], begin: [0, 1, 0, 1, 1], size: [2, 2, 2, 1, 2] },
    { shape: [4, 4], begin: [1, 1], size: [0, 2] }
  ]
  for (const c of cases) {
    it(`slice [${c.shape}] at [${c.begin}] size [${c.size}], float32 and int32, equals cpu`, async () => {
      const v = rand(size(c.shape), 700)
      for (const dtype of ['float32', 'int32'] as const) {
        const run = (b: BackendName) => runOn(b, () => tf.slice(tf.tensor(dtype === 'int32' ? v.map((t) => Math.round(t * 100)) : v, c.shape, dtype), c.begin, c.size))
        expectClose((await run('wasm'))[0], (await run('cpu'))[0], `${dtype} slice`, 0, 0)
      }
    })
  }

  it('split along channels (and concat gradients) equal cpu; strings still slice', async () => {
    const shape = [2, 4, 5, 9]
    const v = rand(size(shape), 710)
    const run = (b: BackendName) => runOn(b, () => tf.split(tf.tensor(v, shape), [2, 4, 3], 3))
    const wasm = await run('wasm')
    const cpu = await run('cpu')
    wasm.forEach((part, i) => expectClose(part, cpu[i], `part ${i}`, 0, 0))
    await tf.setBackend('wasm')
    expect(tf.tidy(() => tf.slice(tf.tensor1d(['a', 'b', 'c'], 'string'), [1], [2]).arraySync())).toEqual(['b', 'c'])
  })
})
