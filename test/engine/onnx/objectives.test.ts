import * as tf from '@tensorflow/tfjs'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildObjectiveGraph, type ObjectiveGeometry, type OnnxModelDescription } from '@main/engine/onnx/objectives'
import { float32Tensor, int64Tensor, type IrModel, type IrNode, type IrTensor } from '@main/engine/onnx/ir'
import { gradRules } from '@main/engine/onnx/vjp'
import { tfjsSegmentationModel } from '@main/engine/tfjsModel'
import { upsampleBilinear } from '@main/saliency/upsample'
import { node, randoms } from './fdHarness'

/**
 * A per-pixel model small enough to check by hand and by finite differences: logits = tanh(x·W1)·W2 + b at every
 * pixel. As an NCHW export it is Transpose → MatMul → Tanh → MatMul → Add → Transpose, as PyTorch writes 1×1 heads.
 */
const C = 3
const HIDDEN = 4
const K = 3
const W1 = randoms(C * HIDDEN, 11, -1.5, 1.5)
const W2 = randoms(HIDDEN * K, 12, -2, 2)
const BIAS = randoms(K, 13, -0.5, 0.5)
const geometry: ObjectiveGeometry = { batch: 2, height: 4, width: 6, channels: C, maskHeight: 2, maskWidth: 3 }

function pointwiseModel(layout: 'NCHW' | 'NHWC', opset: number, withSoftmax = false, downsample = false): IrModel {
  const nodes: IrNode[] = []
  let x = 'input'
  // Every second row and column (NCHW): an output at half the input size, as a stride-2 backbone without upsampling head.
  if (downsample) nodes.push(node('Slice', ['input', 'st', 'en', 'ax', 'sp'], ['sub'])), (x = 'sub')
  if (layout === 'NCHW') nodes.push(node('Transpose', [x], ['nhwc'], { perm: [0, 2, 3, 1] })), (x = 'nhwc')
  nodes.push(node('MatMul', [x, 'W1'], ['h1']), node('Tanh', ['h1'], ['t1']), node('MatMul', ['t1', 'W2'], ['h2']), node('Add', ['h2', 'b'], ['logits']))
  let out = 'logits'
  if (withSoftmax) nodes.push(node('Softmax', ['logits'], ['probs'], { axis: 3 })), (out = 'probs')
  if (layout === 'NCHW') nodes.push(node('Transpose', [out], ['output'], { perm: [0, 3, 1, 2] }))
  else nodes.push(node('Identity', [out], ['output']))
  const initializers = new Map<string, IrTensor>([
    ['W1', float32Tensor(W1, [C, HIDDEN])],
    ['W2', float32Tensor(W2, [HIDDEN, K])],
    ['b', float32Tensor(BIAS, [K])],
    ['st', int64Tensor([0, 0])],
    ['en', int64Tensor([1000, 1000])],
    ['ax', int64Tensor(layout === 'NCHW' ? [2, 3] : [1, 2])],
    ['sp', int64Tensor([2, 2])]
  ])
  return {
    graph: {
      name: 'pointwise',
      nodes,
      inputs: [{ name: 'input', dataType: 'float32', shape: layout === 'NCHW' ? ['batch', C, 'h', 'w'] : ['batch', 'h', 'w', C] }],
      outputs: [{ name: 'output', dataType: 'float32', shape: null }],
      initializers
    },
    opset,
    otherOpsets: [],
    irVersion: 8,
    producer: 'test'
  }
}

/** The same model in plain TypeScript: probabilities of one pixel. */
function pixelProbs(px: ArrayLike<number>): number[] {
  const hid = Array.from({ length: HIDDEN }, (_, j) => Math.tanh(Array.from({ length: C }, (_, c) => px[c] * W1[c * HIDDEN + j]).reduce((a, b) => a + b, 0)))
  const z = Array.from({ length: K }, (_, k) => hid.reduce((a, hv, j) => a + hv * W2[j * K + k], BIAS[k]))
  const m = Math.max(...z)
  const e = z.map((v) => Math.exp(v - m))
  const s = e.reduce((a, b) => a + b, 0)
  return e.map((v) => v / s)
}

const { batch: B, height: H, width: W, maskHeight: MH, maskWidth: MW } = geometry as Required<ObjectiveGeometry>
const images = Float32Array.from(randoms(B * H * W * C, 21, 0, 1))
const start = new Float32Array(B * H * W * C).fill(0.5)
const request = new Float32Array(B * H * W)
for (let b = 0; b < B; b++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) request[(b * H + i) * W + j] = (i + j + b) % 3 === 0 ? 0 : 1
const classes = [1, 2]
const classOneHot = new Float32Array(B * K)
classes.forEach((k, b) => (classOneHot[b * K + k] = 1))
const originalProb = Float32Array.from(randoms(B * H * W, 22, 0.1, 0.9))
const masks = Float32Array.from(randoms(B * MH * MW, 23, 0.2, 0.8))
const LAMBDA = 0.05
const CLIP: [number, number] = [0.05, 0.95]

const t = (data: Float32Array, dims: number[]): ort.Tensor => new ort.Tensor('float32', data, dims)
const f32 = (x: ort.Tensor): Float32Array => x.data as Float32Array

const perturbationFeeds = (m: Float32Array): Record<string, ort.Tensor> => ({
  masks: t(m, [B, MH, MW]),
  images: t(images, [B, H, W, C]),
  start: t(start, [B, H, W, C]),
  request: t(request, [B, H, W]),
  classOneHot: t(classOneHot, [B, K]),
  originalProb: t(originalProb, [B, H, W]),
  lambda: t(Float32Array.of(LAMBDA), [1]),
  clipLow: t(Float32Array.of(CLIP[0]), [1]),
  clipHigh: t(Float32Array.of(CLIP[1]), [1])
})

/** Eq. 2/3 in plain TypeScript on top of the predict graph: an independent path to the loss. */
async function lossThroughPredict(predict: ort.InferenceSession, m: Float32Array): Promise<number[]> {
  const x = new Float32Array(B * H * W * C)
  for (let b = 0; b < B; b++) {
    const up = upsampleBilinear(m.subarray(b * MH * MW, (b + 1) * MH * MW), MH, MW, H, W)
    for (let p = 0; p < H * W; p++) {
      for (let c = 0; c < C; c++) {
        const i = (b * H * W + p) * C + c
        const v = images[i] * up[p] + start[i] * (1 - up[p])
        x[i] = Math.min(Math.max(v, CLIP[0]), CLIP[1])
      }
    }
  }
  const probs = f32((await predict.run({ images: t(x, [B, H, W, C]) })).probabilities)
  return Array.from({ length: B }, (_, b) => {
    let num = 0
    let area = 0
    for (let p = 0; p < H * W; p++) {
      const fc = probs[(b * H * W + p) * K + classes[b]]
      const r = request[b * H * W + p]
      num += r * Math.max(originalProb[b * H * W + p] - fc, 0)
      area += r
    }
    let l1 = 0
    for (let i = 0; i < MH * MW; i++) l1 += m[b * MH * MW + i]
    return LAMBDA * l1 + num / area
  })
}

async function session(model: IrModel, description: OnnxModelDescription, kind: Parameters<typeof buildObjectiveGraph>[2]): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(await buildObjectiveGraph(model, description, kind, geometry), { intraOpNumThreads: 1 })
}

/** max |a − n| over max |n|: the gradients here are O(0.01–1), so a relative-to-largest error is the meaningful scale. */
function relError(a: ArrayLike<number>, n: ArrayLike<number>): number {
  let err = 0
  let scale = 0
  for (let i = 0; i < n.length; i++) {
    err = Math.max(err, Math.abs(a[i] - n[i]))
    scale = Math.max(scale, Math.abs(n[i]))
  }
  return err / scale
}

describe('objective graphs on a hand-built NCHW logits model', () => {
  const description: OnnxModelDescription = { layout: 'NCHW', output: 'logits', numClasses: K }
  const sessions: ort.InferenceSession[] = []
  let predict: ort.InferenceSession
  beforeAll(async () => {
    predict = await session(pointwiseModel('NCHW', 13), description, 'predict')
    sessions.push(predict)
  })
  afterAll(async () => {
    for (const s of sessions) await s.release()
  })

  it('predict gives NHWC probabilities equal to the per-pixel model computed in TypeScript', async () => {
    const out = (await predict.run({ images: t(images, [B, H, W, C]) })).probabilities
    expect(out.dims).toEqual([B, H, W, K])
    const p = f32(out)
    for (let i = 0; i < B * H * W; i++) {
      const want = pixelProbs(images.subarray(i * C, i * C + C))
      for (let k = 0; k < K; k++) expect(p[i * K + k]).toBeCloseTo(want[k], 5)
    }
  })

  it('perturbation: loss terms match Eq. 2/3 through predict, gradMasks matches finite differences', async () => {
    const s = await session(pointwiseModel('NCHW', 13), description, 'perturbation')
    sessions.push(s)
    const out = await s.run(perturbationFeeds(masks))
    const loss = f32(out.loss)
    const want = await lossThroughPredict(predict, masks)
    for (let b = 0; b < B; b++) expect(loss[b]).toBeCloseTo(want[b], 5)
    expect(f32(out.loss)[0]).toBeCloseTo(f32(out.preservation)[0] + LAMBDA * f32(out.maskL1)[0], 6)

    // float32 predict: step 1e-2 keeps rounding (≈1e-7/1e-2 = 1e-5) and truncation (≈1e-4·|f'''|) small against O(0.1) gradients.
    const h = 1e-2
    const numeric: number[] = []
    for (let i = 0; i < masks.length; i++) {
      const plus = Float32Array.from(masks)
      plus[i] += h
      const minus = Float32Array.from(masks)
      minus[i] -= h
      const lp = (await lossThroughPredict(predict, plus)).reduce((a, v) => a + v, 0)
      const lm = (await lossThroughPredict(predict, minus)).reduce((a, v) => a + v, 0)
      numeric.push((lp - lm) / (2 * h))
    }
    const grad = f32(out.gradMasks)
    expect(out.gradMasks.dims).toEqual([B, MH, MW])
    expect(relError(grad, numeric)).toBeLessThan(2e-3)
  })

  it('perturbation terms, gradMasks and the score gradient equal the tfjs implementation on the same model', async () => {
    const s = await session(pointwiseModel('NCHW', 13), description, 'perturbation')
    sessions.push(s)
    const out = await s.run(perturbationFeeds(masks))
    const w1 = tf.tensor2d(W1, [C, HIDDEN])
    const w2 = tf.tensor2d(W2, [HIDDEN, K])
    const bias = tf.tensor1d(BIAS)
    // The tfjs side of the runtime seam: the same objectives written as tf ops and differentiated by tf.grad.
    const model = tfjsSegmentationModel({
      inputShape: [H, W, C],
      numClasses: K,
      inputRange: CLIP,
      predict: (x) => tf.softmax(tf.add(tf.matMul(tf.tanh(tf.matMul(x.reshape([-1, C]), w1)), w2), bias)).reshape([x.shape[0], H, W, K]) as tf.Tensor4D
    })
    const geometry = { batch: B, height: H, width: W, channels: C }
    const want = await model.perturbationStep({
      ...geometry,
      maskHeight: MH,
      maskWidth: MW,
      masks,
      images,
      start,
      requestMasks: request,
      classOneHot,
      originalProb,
      lambda: LAMBDA,
      clip: CLIP,
      withGradient: true
    })
    for (const name of ['loss', 'preservation', 'maskL1', 'score'] as const) {
      const got = f32(out[name])
      for (let b = 0; b < B; b++) expect(got[b]).toBeCloseTo(want[name][b], 5)
    }
    expect(relError(f32(out.gradMasks), want.gradient!)).toBeLessThan(1e-4)

    // The VG/IG/SG objective against tfjs's request score and its gradient.
    const sg = await session(pointwiseModel('NCHW', 13), description, 'scoreGradient')
    sessions.push(sg)
    const so = await sg.run({ images: t(images, [B, H, W, C]), request: t(request, [B, H, W]), classOneHot: t(classOneHot, [B, K]) })
    const tfScore = await model.scoreGradient({ ...geometry, images, requestMasks: request, classOneHot })
    expect(relError(f32(so.gradImages), tfScore.gradient)).toBeLessThan(1e-4)
    for (let b = 0; b < B; b++) expect(f32(so.score)[b]).toBeCloseTo(tfScore.score[b], 5)
    tf.dispose([w1, w2, bias])
  })

  it('perturbationLoss gives the same terms without a gradient output', async () => {
    const s = await session(pointwiseModel('NCHW', 13), description, 'perturbationLoss')
    sessions.push(s)
    expect(s.outputNames).not.toContain('gradMasks')
    const out = await s.run(perturbationFeeds(masks))
    const want = await lossThroughPredict(predict, masks)
    for (let b = 0; b < B; b++) expect(f32(out.loss)[b]).toBeCloseTo(want[b], 5)
  })

  it('scoreGradient: gradImages matches finite differences of the request score through predict', async () => {
    const s = await session(pointwiseModel('NCHW', 13), description, 'scoreGradient')
    sessions.push(s)
    const feeds = (x: Float32Array): Record<string, ort.Tensor> => ({ images: t(x, [B, H, W, C]), request: t(request, [B, H, W]), classOneHot: t(classOneHot, [B, K]) })
    const out = await s.run(feeds(images))
    const scoreOf = async (x: Float32Array): Promise<number> => {
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
    expect(f32(out.score)[0] + f32(out.score)[1]).toBeCloseTo(await scoreOf(images), 5)
    const h = 1e-2
    const numeric: number[] = []
    for (let i = 0; i < images.length; i++) {
      const plus = Float32Array.from(images)
      plus[i] += h
      const minus = Float32Array.from(images)
      minus[i] -= h
      numeric.push(((await scoreOf(plus)) - (await scoreOf(minus))) / (2 * h))
    }
    expect(out.gradImages.dims).toEqual([B, H, W, C])
    expect(relError(f32(out.gradImages), numeric)).toBeLessThan(2e-3)
  })
})

describe('objective graphs across layouts and opsets', () => {
  for (const [layout, opset, withSoftmax] of [
    ['NHWC', 11, false],
    ['NHWC', 17, true],
    ['NCHW', 11, true]
  ] as const) {
    it(`${layout} opset ${opset} ${withSoftmax ? 'probabilities' : 'logits'}: predict and gradMasks agree with the NCHW opset-13 logits graphs`, async () => {
      const ref = await session(pointwiseModel('NCHW', 13), { layout: 'NCHW', output: 'logits', numClasses: K }, 'perturbation')
      const other = await session(pointwiseModel(layout, opset, withSoftmax), { layout, output: withSoftmax ? 'probabilities' : 'logits', numClasses: K }, 'perturbation')
      try {
        const a = await ref.run(perturbationFeeds(masks))
        const b = await other.run(perturbationFeeds(masks))
        expect(relError(f32(b.loss), f32(a.loss))).toBeLessThan(1e-5)
        expect(relError(f32(b.gradMasks), f32(a.gradMasks))).toBeLessThan(1e-4)
      } finally {
        await ref.release()
        await other.release()
      }
    })
  }

  it('a model whose own input and output are called images and probabilities composes without name clashes', async () => {
    const named = pointwiseModel('NCHW', 13)
    const rn = (v: string): string => (v === 'input' ? 'images' : v === 'output' ? 'probabilities' : v)
    for (const n of named.graph.nodes) (n.inputs = n.inputs.map(rn)), (n.outputs = n.outputs.map(rn))
    named.graph.inputs[0].name = 'images'
    named.graph.outputs[0].name = 'probabilities'
    const description: OnnxModelDescription = { layout: 'NCHW', output: 'logits', numClasses: K }
    const ref = await session(pointwiseModel('NCHW', 13), description, 'perturbation')
    const other = await session(named, description, 'perturbation')
    try {
      const a = await ref.run(perturbationFeeds(masks))
      const b = await other.run(perturbationFeeds(masks))
      expect(Array.from(f32(b.gradMasks))).toEqual(Array.from(f32(a.gradMasks)))
    } finally {
      await ref.release()
      await other.release()
    }
  })

  it('refuses a description whose class count differs from the output channels', async () => {
    await expect(buildObjectiveGraph(pointwiseModel('NCHW', 13), { layout: 'NCHW', output: 'logits', numClasses: 5 }, 'predict', geometry)).rejects.toThrow(/3 channels but the description names 5 classes/)
  })
})

describe('a model whose output is an integer fraction of the input size', () => {
  const description: OnnxModelDescription = { layout: 'NCHW', output: 'logits', numClasses: K }

  it('predict upsamples the logits bilinearly (half-pixel, the weights of interpolationMatrix) before the softmax', async () => {
    const predict = await session(pointwiseModel('NCHW', 13, false, true), description, 'predict')
    try {
      const p = f32((await predict.run({ images: t(images, [B, H, W, C]) })).probabilities)
      const [h2, w2] = [H / 2, W / 2]
      for (let b = 0; b < B; b++) {
        // Low-resolution logits of the sampled pixels, per class, upsampled in TypeScript.
        const logits = Array.from({ length: K }, () => new Float32Array(h2 * w2))
        for (let i = 0; i < h2; i++) {
          for (let j = 0; j < w2; j++) {
            const o = ((b * H + 2 * i) * W + 2 * j) * C
            const px = images.subarray(o, o + C)
            const hid = Array.from({ length: HIDDEN }, (_, q) => Math.tanh(Array.from({ length: C }, (_, c) => px[c] * W1[c * HIDDEN + q]).reduce((a, v) => a + v, 0)))
            for (let k = 0; k < K; k++) logits[k][i * w2 + j] = hid.reduce((a, hv, q) => a + hv * W2[q * K + k], BIAS[k])
          }
        }
        const up = logits.map((l) => upsampleBilinear(l, h2, w2, H, W))
        for (let q = 0; q < H * W; q++) {
          const z = up.map((u) => u[q])
          const e = z.map((v) => Math.exp(v - Math.max(...z)))
          const sum = e.reduce((a, v) => a + v, 0)
          for (let k = 0; k < K; k++) expect(p[(b * H * W + q) * K + k]).toBeCloseTo(e[k] / sum, 5)
        }
      }
    } finally {
      await predict.release()
    }
  })

  it('an NHWC model with a half-size output predicts what the NCHW one does', async () => {
    const nchw = await session(pointwiseModel('NCHW', 13, false, true), description, 'predict')
    const nhwc = await session(pointwiseModel('NHWC', 13, false, true), { ...description, layout: 'NHWC' }, 'predict')
    try {
      const a = f32((await nchw.run({ images: t(images, [B, H, W, C]) })).probabilities)
      const b = f32((await nhwc.run({ images: t(images, [B, H, W, C]) })).probabilities)
      expect(relError(b, a)).toBeLessThan(1e-6)
    } finally {
      await nchw.release()
      await nhwc.release()
    }
  })

  // The Resize backward rule belongs to the spatial rules; until they land this graph is refused (see fold.test.ts).
  it.skipIf(!gradRules.Resize)('perturbation gradMasks matches finite differences through predict', async () => {
    const predict = await session(pointwiseModel('NCHW', 13, false, true), description, 'predict')
    const s = await session(pointwiseModel('NCHW', 13, false, true), description, 'perturbation')
    try {
      const out = await s.run(perturbationFeeds(masks))
      const h = 1e-2
      const numeric: number[] = []
      for (let i = 0; i < masks.length; i++) {
        const plus = Float32Array.from(masks)
        plus[i] += h
        const minus = Float32Array.from(masks)
        minus[i] -= h
        const lp = (await lossThroughPredict(predict, plus)).reduce((a, v) => a + v, 0)
        const lm = (await lossThroughPredict(predict, minus)).reduce((a, v) => a + v, 0)
        numeric.push((lp - lm) / (2 * h))
      }
      expect(relError(f32(out.gradMasks), numeric)).toBeLessThan(2e-3)
    } finally {
      await predict.release()
      await s.release()
    }
  })
})
