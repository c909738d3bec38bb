import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { expect } from 'vitest'
import { registerWasmKernels } from '@main/engine/kernels/index'

export type BackendName = 'cpu' | 'wasm'

let ready = false

/** Registers the engine's kernels and brings up both backends once per test file (vitest forks per file). */
export async function setupBackends(): Promise<void> {
  if (ready) return
  registerWasmKernels()
  for (const name of ['cpu', 'wasm'] as const) {
    if (!(await tf.setBackend(name))) throw new Error(`backend ${name} did not start`)
    await tf.ready()
  }
  ready = true
}

/** Deterministic values uniform in [-1, 1). */
export function rand(n: number, seed: number): Float32Array {
  let a = seed >>> 0
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1
  }
  return out
}

export const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1)

/**
 * Runs `fn` on one backend and returns the values of the tensors it returns. Inputs are built inside `fn` from
 * plain arrays so nothing is shared between backends.
 */
export async function runOn(backend: BackendName, fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend)
  const before = tf.memory().numTensors
  const values = tf.tidy(() => {
    const out = fn()
    return (Array.isArray(out) ? out : [out]).map((t) => Float32Array.from(t.dataSync()))
  })
  expect(tf.memory().numTensors, `tensors leaked on ${backend}`).toBe(before)
  return values
}

/** Elementwise |a − b| ≤ atol + rtol·max|b| (float32 sums of many products: errors scale with the magnitude). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-4, atol = 1e-5): void {
  expect(actual.length, `${what}: length`).toBe(expected.length)
  let scale = 0
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]))
  const tol = atol + rtol * scale
  let worst = 0
  let at = -1
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i])
    if (!(err <= worst)) {
      worst = err
      at = i
    }
  }
  expect(worst, `${what}: worst error ${worst} at ${at} (actual ${actual[at]}, expected ${expected[at]}, tol ${tol})`).toBeLessThanOrEqual(tol)
}

/**
 * Central finite difference of a scalar function along `direction`, on the cpu backend. For functions linear in
 * the perturbed argument (a convolution in x or in w) the difference is exact up to float32 rounding.
 */
export async function directionalFD(f: (t: tf.Tensor) => tf.Scalar, at: Float32Array, shape: number[], direction: Float32Array, eps: number): Promise<number> {
  const [plus, minus] = await runOn('cpu', () => {
    const p = tf.tensor(at.map((v, i) => v + eps * direction[i]), shape)
    const m = tf.tensor(at.map((v, i) => v - eps * direction[i]), shape)
    return [f(p), f(m)]
  })
  return (plus[0] - minus[0]) / (2 * eps)
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]
  return s
}

/**
 * A dilated filter written out as an undilated one with zeros between the taps: [kh,kw,a,b] → [(kh−1)d+1, …].
 * A dilated convolution equals the undilated convolution with this filter, which gives tfjs's own (undilated)
 * kernels as an independent reference for dilated gradients.
 */
export function expandFilter(w: Float32Array, shape: [number, number, number, number], dh: number, dw: number): { values: Float32Array; shape: [number, number, number, number] } {
  const [kh, kw, a, b] = shape
  const eh = (kh - 1) * dh + 1
  const ew = (kw - 1) * dw + 1
  const out = new Float32Array(eh * ew * a * b)
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let k = 0; k < a * b; k++) out[((i * dh) * ew + j * dw) * a * b + k] = w[(i * kw + j) * a * b + k]
  return { values: out, shape: [eh, ew, a, b] }
}

/** The taps of an expanded filter's gradient that correspond to the real (dilated) taps. */
export function sampleExpanded(g: Float32Array, shape: [number, number, number, number], dh: number, dw: number): Float32Array {
  const [kh, kw, a, b] = shape
  const ew = (kw - 1) * dw + 1
  const out = new Float32Array(kh * kw * a * b)
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let k = 0; k < a * b; k++) out[(i * kw + j) * a * b + k] = g[((i * dh) * ew + j * dw) * a * b + k]
  return out
}
