/**
 * Seconds per saliency request on a 64×64×1 input and an 11-class 4-level U-Net (16-32-64-128-128, batch norm,
 * softmax, random weights), on the backend initBackend() picks. Prints a markdown table.
 *
 *   npx tsx scripts/bench-saliency.ts [--steps 100] [--ig-steps 50] [--sg-samples 50] [--batches 1,16]
 *                                     [--methods context,vg,ig,sg] [--model ops|layers] [--backend wasm|cpu|...]
 *
 * --model ops (default) builds the U-Net from plain tf ops, whose input gradient needs no filter-gradient kernel;
 * --model layers builds it with tf.layers and runs it through fromLayersModel (fused convolutions: needs
 * Conv2DBackpropFilter on the backend).
 */
import * as tf from '@tensorflow/tfjs'
import { initBackend } from '../src/main/engine/backend'
import { computeSaliency, fromLayersModel, type SaliencyRequest, type SegmentationModel } from '../src/main/saliency'
import type { SaliencyParamsInput } from '../src/common/saliency'

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}

const SIZE = 64
const CLASSES = 11
const WIDTHS = [16, 32, 64, 128, 128]

/** Deterministic weights so runs are comparable. */
let seed = 1
const randn = (shape: number[], std: number) => tf.randomNormal(shape, 0, std, 'float32', seed++)

interface ConvBn {
  filter: tf.Tensor4D
  scale: tf.Tensor1D
  offset: tf.Tensor1D
  mean: tf.Tensor1D
  variance: tf.Tensor1D
}

function convBn(cin: number, cout: number): ConvBn {
  return tf.tidy(() => ({
    filter: randn([3, 3, cin, cout], Math.sqrt(2 / (9 * cin))) as tf.Tensor4D,
    scale: tf.add(1, randn([cout], 0.1)) as tf.Tensor1D,
    offset: randn([cout], 0.1) as tf.Tensor1D,
    mean: randn([cout], 0.1) as tf.Tensor1D,
    variance: tf.add(1, tf.abs(randn([cout], 0.1))) as tf.Tensor1D
  }))
}

/** Inference-mode U-Net from plain ops: conv → batch norm (moving statistics) → ReLU, twice per level. */
function opsUNet(): { model: SegmentationModel; params: number } {
  const block = (cin: number, cout: number) => [convBn(cin, cout), convBn(cout, cout)]
  const enc = WIDTHS.map((w, i) => block(i === 0 ? 1 : WIDTHS[i - 1], w))
  // Decoder level l takes the upsampled deeper features and the skip of level l: output = skip width.
  const dec = [3, 2, 1, 0].map((l) => block((l === 3 ? WIDTHS[4] : WIDTHS[l + 1]) + WIDTHS[l], WIDTHS[l]))
  const head = { filter: randn([1, 1, WIDTHS[0], CLASSES], Math.sqrt(1 / WIDTHS[0])) as tf.Tensor4D, bias: randn([CLASSES], 0.1) }
  const all = [...enc.flat(), ...dec.flat()]
  const params = all.reduce((s, c) => s + c.filter.size + 4 * c.scale.size, 0) + head.filter.size + head.bias.size

  // Batch norm in inference mode is a per-channel affine map; applied as x·a + b because tf.batchNorm's input
  // gradient tiles its statistics to the full activation shape (measured: ~20% of a step on wasm).
  const affine = all.map((c) =>
    tf.tidy(() => {
      const a = tf.div(c.scale, tf.sqrt(tf.add(c.variance, 1e-3)))
      return { a, b: tf.sub(c.offset, tf.mul(c.mean, a)) }
    })
  )
  const affineOf = new Map(all.map((c, i) => [c, affine[i]]))
  const apply = (x: tf.Tensor4D, layers: ConvBn[]) =>
    layers.reduce((h, c) => {
      const { a, b } = affineOf.get(c)!
      return tf.relu(tf.add(tf.mul(tf.conv2d(h, c.filter, 1, 'same'), a), b)) as tf.Tensor4D
    }, x)
  const up = (x: tf.Tensor4D) => tf.image.resizeNearestNeighbor(x, [x.shape[1] * 2, x.shape[2] * 2])
  return {
    params,
    model: {
      inputShape: [SIZE, SIZE, 1],
      numClasses: CLASSES,
      inputRange: [0, 1],
      predict: (x) =>
        tf.tidy(() => {
          const skips: tf.Tensor4D[] = []
          let h = x
          for (let l = 0; l < 4; l++) {
            h = apply(h, enc[l])
            skips.push(h)
            h = tf.maxPool(h, 2, 2, 'valid')
          }
          h = apply(h, enc[4])
          for (const [i, l] of [3, 2, 1, 0].entries()) h = apply(tf.concat([up(h), skips[l]], 3), dec[i])
          return tf.softmax(tf.add(tf.conv2d(h, head.filter, 1, 'same'), head.bias)) as tf.Tensor4D
        })
    }
  }
}

function layersUNet(): { model: SegmentationModel; params: number } {
  const convBnRelu = (x: tf.SymbolicTensor, filters: number) => {
    const c = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: seed++ }) }).apply(x)
    const b = tf.layers.batchNormalization().apply(c)
    return tf.layers.reLU().apply(b) as tf.SymbolicTensor
  }
  const block = (x: tf.SymbolicTensor, f: number) => convBnRelu(convBnRelu(x, f), f)
  const input = tf.input({ shape: [SIZE, SIZE, 1] })
  const skips: tf.SymbolicTensor[] = []
  let h = input
  for (let l = 0; l < 4; l++) {
    h = block(h, WIDTHS[l])
    skips.push(h)
    h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor
  }
  h = block(h, WIDTHS[4])
  for (const l of [3, 2, 1, 0]) {
    const u = tf.layers.upSampling2d({ size: [2, 2] }).apply(h) as tf.SymbolicTensor
    h = block(tf.layers.concatenate().apply([u, skips[l]]) as tf.SymbolicTensor, WIDTHS[l])
  }
  const out = tf.layers.conv2d({ filters: CLASSES, kernelSize: 1, activation: 'softmax' }).apply(h) as tf.SymbolicTensor
  const m = tf.model({ inputs: input, outputs: out })
  return { model: fromLayersModel(m), params: m.countParams() }
}

function requestsFor(n: number): SaliencyRequest[] {
  return Array.from({ length: n }, (_, i) => {
    const data = new Float32Array(SIZE * SIZE)
    for (let p = 0; p < data.length; p++) data[p] = ((p * 2654435761 + i * 97) % 1000) / 1000
    const request = new Uint8Array(SIZE * SIZE)
    for (let y = 20; y < 44; y++) for (let x = 16 + (i % 8); x < 40 + (i % 8); x++) request[y * SIZE + x] = 1
    return { image: { data, height: SIZE, width: SIZE, channels: 1 }, request, classId: i % CLASSES }
  })
}

async function main(): Promise<void> {
  const backend = await initBackend({ flag: arg('backend', '') || undefined })
  const steps = Number(arg('steps', '100'))
  const igSteps = Number(arg('ig-steps', '50'))
  const sgSamples = Number(arg('sg-samples', '50'))
  const batches = arg('batches', '1,16').split(',').map(Number)
  const methods = arg('methods', 'context,vg,ig,sg').split(',')
  const { model, params } = arg('model', 'ops') === 'layers' ? layersUNet() : opsUNet()

  const paramsFor = (m: string): SaliencyParamsInput => {
    switch (m) {
      case 'context':
      case 'grid':
        return { method: m, steps }
      case 'vg':
        return { method: 'vg' }
      case 'ig':
        return { method: 'ig', steps: igSteps }
      case 'sg':
        return { method: 'sg', samples: sgSamples }
      default:
        throw new Error(`unknown method ${m}`)
    }
  }
  const workOf = (p: SaliencyParamsInput) =>
    p.method === 'context' || p.method === 'grid' ? `${p.steps} steps` : p.method === 'ig' ? `${p.steps} steps` : p.method === 'sg' ? `${p.samples} samples` : '1 gradient'

  // Warm-up: first-use kernel setup and weight uploads are not part of a request's cost.
  await computeSaliency(model, requestsFor(1), { method: 'context', steps: 1 })

  const alive = tf.memory().numTensors
  const filterGrad = tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined
  console.log(`backend: ${backend.name} (tfjs '${backend.tfBackend}'), model: ${arg('model', 'ops')} U-Net, ${params.toLocaleString('en')} parameters, input ${SIZE}×${SIZE}×1, ${CLASSES} classes; Conv2DBackpropFilter registered: ${filterGrad ? 'yes' : 'no'}`)
  console.log('')
  console.log('| method | work per request | batch | s / request | s / batch |')
  console.log('|---|---|---:|---:|---:|')
  for (const m of methods) {
    const p = paramsFor(m)
    for (const b of batches) {
      const reqs = requestsFor(b)
      const t0 = performance.now()
      await computeSaliency(model, reqs, p, { maxBatch: b })
      const s = (performance.now() - t0) / 1000
      console.log(`| ${m} | ${workOf(p)} | ${b} | ${(s / b).toFixed(3)} | ${s.toFixed(2)} |`)
    }
  }
  console.log('')
  console.log(`tensors left behind by the measured runs: ${tf.memory().numTensors - alive}`)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
