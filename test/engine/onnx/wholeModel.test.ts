import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { float32Tensor, int64Tensor, type IrModel, type IrTensor } from '@main/engine/onnx/ir'
import { buildObjectiveGraph, type ObjectiveGeometry, type OnnxModelDescription } from '@main/engine/onnx/objectives'
import { gradRules } from '@main/engine/onnx/vjp'
import { upsampleBilinear } from '@main/saliency/upsample'
import { node, randoms } from './fdHarness'

/**
 * A miniature LR-ASPP-style network as PyTorch exports it: strided Conv, BatchNormalization, HardSwish, a
 * squeeze-excite branch (GlobalAveragePool → Conv → HardSigmoid → Mul), a residual Add, a 1×1 classifier and a
 * Resize whose target size comes from Shape arithmetic. It exercises folding, the spatial rules, the core rules
 * and gradient accumulation together; the whole objective's gradients are checked against finite differences.
 */
const [B, C, H, W, K, F] = [2, 3, 8, 12, 3, 6]
const geometry: ObjectiveGeometry = { batch: B, height: H, width: W, channels: C, maskHeight: 2, maskWidth: 3 }
const description: OnnxModelDescription = { layout: 'NCHW', output: 'logits', numClasses: K }
const r = (n: number, seed: number, lo = -1, hi = 1): number[] => randoms(n, seed, lo, hi)

function miniSegmenter(): IrModel {
  const init = new Map<string, IrTensor>([
    ['w0', float32Tensor(r(F * C * 9, 1, -0.6, 0.6), [F, C, 3, 3])],
    ['b0', float32Tensor(r(F, 2), [F])],
    ['scale', float32Tensor(r(F, 3, 0.5, 1.5), [F])],
    ['shift', float32Tensor(r(F, 4), [F])],
    ['mean', float32Tensor(r(F, 5, -0.2, 0.2), [F])],
    ['var', float32Tensor(r(F, 6, 0.5, 1.5), [F])],
    ['w1', float32Tensor(r(F * F, 7), [F, F, 1, 1])],
    ['w2', float32Tensor(r(K * F, 8, -1.5, 1.5), [K, F, 1, 1])],
    ['b2', float32Tensor(r(K, 9), [K])],
    ['idx', int64Tensor([2, 3])],
    ['zero', int64Tensor([0])],
    ['two', int64Tensor([2])]
  ])
  return {
    graph: {
      name: 'mini-lraspp',
      nodes: [
        node('Conv', ['input', 'w0', 'b0'], ['c0'], { strides: [2, 2], pads: [1, 1, 1, 1], kernel_shape: [3, 3] }),
        node('BatchNormalization', ['c0', 'scale', 'shift', 'mean', 'var'], ['bn']),
        node('HardSwish', ['bn'], ['hs']),
        node('GlobalAveragePool', ['hs'], ['gap']),
        node('Conv', ['gap', 'w1'], ['se'], { kernel_shape: [1, 1] }),
        node('HardSigmoid', ['se'], ['sg'], { alpha: { kind: 'float', value: 1 / 6 }, beta: { kind: 'float', value: 0.5 } }),
        node('Mul', ['hs', 'sg'], ['excited']),
        node('Add', ['excited', 'hs'], ['res']),
        node('Conv', ['res', 'w2', 'b2'], ['low'], { kernel_shape: [1, 1] }),
        node('Shape', ['input'], ['shape']),
        node('Gather', ['shape', 'idx'], ['hw'], { axis: 0 }),
        node('Slice', ['shape', 'zero', 'two'], ['bc']),
        node('Shape', ['low'], ['lowShape']),
        node('Slice', ['lowShape', 'zero', 'two'], ['bk']),
        node('Concat', ['bk', 'hw'], ['sizes'], { axis: 0 }),
        node('Resize', ['low', '', '', 'sizes'], ['output'], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' })
      ],
      inputs: [{ name: 'input', dataType: 'float32', shape: ['batch', C, 'height', 'width'] }],
      outputs: [{ name: 'output', dataType: 'float32', shape: null }],
      initializers: init
    },
    opset: 14,
    otherOpsets: [],
    irVersion: 8,
    producer: 'test'
  }
}

const images = Float32Array.from(r(B * H * W * C, 21, 0, 1))
const request = new Float32Array(B * H * W).map((_, i) => (i % 5 === 0 ? 0 : 1))
const classes = [0, 2]
const classOneHot = new Float32Array(B * K)
classes.forEach((k, b) => (classOneHot[b * K + k] = 1))
const t = (data: Float32Array, dims: number[]): ort.Tensor => new ort.Tensor('float32', data, dims)
const f32 = (x: ort.Tensor): Float32Array => x.data as Float32Array

function relError(a: ArrayLike<number>, n: ArrayLike<number>): number {
  let err = 0
  let scale = 0
  for (let i = 0; i < n.length; i++) {
    err = Math.max(err, Math.abs(a[i] - n[i]))
    scale = Math.max(scale, Math.abs(n[i]))
  }
  return err / scale
}

describe.skipIf(!gradRules.Conv || !gradRules.Resize)('objective gradients of a miniature LR-ASPP-style network', () => {
  let predict: ort.InferenceSession
  const open: ort.InferenceSession[] = []
  const make = async (kind: Parameters<typeof buildObjectiveGraph>[2]): Promise<ort.InferenceSession> => {
    const s = await ort.InferenceSession.create(await buildObjectiveGraph(miniSegmenter(), description, kind, geometry), { intraOpNumThreads: 1 })
    open.push(s)
    return s
  }
  beforeAll(async () => {
    predict = await make('predict')
  })
  afterAll(async () => {
    for (const s of open) await s.release()
  })

  const scoreSum = async (x: Float32Array): Promise<number> => {
    const p = f32((await predict.run({ images: t(x, [B, H, W, C]) })).probabilities)
    let total = 0
    for (let b = 0; b < B; b++) {
      let num = 0
      let area = 0
      for (let q = 0; q < H * W; q++) {
        num += request[b * H * W + q] * p[(b * H * W + q) * K + classes[b]]
        area += request[b * H * W + q]
      }
      total += num / area
    }
    return total
  }

  it('scoreGradient: gradImages matches finite differences of the score', async () => {
    const s = await make('scoreGradient')
    const out = await s.run({ images: t(images, [B, H, W, C]), request: t(request, [B, H, W]), classOneHot: t(classOneHot, [B, K]) })
    // float32 forward passes: step 1e-2 (rounding ≈ 1e-5, truncation ≈ 1e-4·|f'''|); a kink of HardSwish/HardSigmoid
    // inside a step perturbs a few entries, hence 2e-3 of the largest gradient (measured: ≈1e-4).
    const h = 1e-2
    const numeric: number[] = []
    for (let i = 0; i < images.length; i++) {
      const plus = Float32Array.from(images)
      plus[i] += h
      const minus = Float32Array.from(images)
      minus[i] -= h
      numeric.push(((await scoreSum(plus)) - (await scoreSum(minus))) / (2 * h))
    }
    expect(relError(f32(out.gradImages), numeric)).toBeLessThan(2e-3)
  })

  it('perturbation: gradMasks matches finite differences of the loss', async () => {
    const s = await make('perturbation')
    const [MH, MW] = [2, 3]
    const start = new Float32Array(images.length)
    const originalProb = Float32Array.from(r(B * H * W, 30, 0.2, 0.8))
    const lambda = 0.02
    const feeds = (m: Float32Array): Record<string, ort.Tensor> => ({
      masks: t(m, [B, MH, MW]),
      images: t(images, [B, H, W, C]),
      start: t(start, [B, H, W, C]),
      request: t(request, [B, H, W]),
      classOneHot: t(classOneHot, [B, K]),
      originalProb: t(originalProb, [B, H, W]),
      lambda: t(Float32Array.of(lambda), [1]),
      clipLow: t(Float32Array.of(0), [1]),
      clipHigh: t(Float32Array.of(1), [1])
    })
    const lossSum = async (m: Float32Array): Promise<number> => {
      const x = new Float32Array(images.length)
      for (let b = 0; b < B; b++) {
        const up = upsampleBilinear(m.subarray(b * MH * MW, (b + 1) * MH * MW), MH, MW, H, W)
        for (let q = 0; q < H * W; q++) for (let c = 0; c < C; c++) x[(b * H * W + q) * C + c] = images[(b * H * W + q) * C + c] * up[q]
      }
      const p = f32((await predict.run({ images: t(x, [B, H, W, C]) })).probabilities)
      let total = 0
      for (let b = 0; b < B; b++) {
        let num = 0
        let area = 0
        for (let q = 0; q < H * W; q++) {
          const i = b * H * W + q
          num += request[i] * Math.max(originalProb[i] - p[i * K + classes[b]], 0)
          area += request[i]
        }
        total += num / area + lambda * m.subarray(b * MH * MW, (b + 1) * MH * MW).reduce((a, v) => a + v, 0)
      }
      return total
    }
    const masks = Float32Array.from(r(B * MH * MW, 31, 0.3, 0.7))
    const out = await s.run(feeds(masks))
    expect(f32(out.loss)[0] + f32(out.loss)[1]).toBeCloseTo(await lossSum(masks), 5)
    const h = 1e-2
    const numeric: number[] = []
    for (let i = 0; i < masks.length; i++) {
      const plus = Float32Array.from(masks)
      plus[i] += h
      const minus = Float32Array.from(masks)
      minus[i] -= h
      numeric.push(((await lossSum(plus)) - (await lossSum(minus))) / (2 * h))
    }
    expect(relError(f32(out.gradMasks), numeric)).toBeLessThan(2e-3)
  })
})
