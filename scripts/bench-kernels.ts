/**
 * Forward vs. gradient kernels on the wasm backend, stock tfjs vs. the engine's kernels (src/main/engine/kernels).
 * Layer sizes are those of a 64×64 U-Net at batch 16. Run: npx tsx scripts/bench-kernels.ts [--reps N]
 * Prints the minimum and median over N repetitions (minimum: the machine is shared, so it is the least noisy).
 */
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { registerWasmKernels } from '../src/main/engine/kernels/index'

const repsArg = process.argv.indexOf('--reps')
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 5

type Shape4 = [number, number, number, number]

function time(fn: () => tf.Tensor): { min: number; median: number } | null {
  try {
    tf.tidy(() => void fn().dataSync())
  } catch {
    return null
  }
  const times: number[] = []
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now()
    tf.tidy(() => void fn().dataSync())
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  return { min: times[0], median: times[Math.floor(times.length / 2)] }
}

const run = (name: string, inputs: tf.NamedTensorMap, attrs: object) => () => tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor

function cases() {
  const x = tf.randomNormal([16, 64, 64, 16]) as tf.Tensor4D
  const w = tf.randomNormal([3, 3, 16, 16]) as tf.Tensor4D
  const dw = tf.randomNormal([3, 3, 16, 1]) as tf.Tensor4D
  const dy = tf.randomNormal([16, 64, 64, 16]) as tf.Tensor4D
  const dy2 = tf.randomNormal([16, 32, 32, 16]) as tf.Tensor4D
  const small = tf.randomNormal([16, 32, 32, 16]) as tf.Tensor4D
  const mask = tf.randomNormal([16, 4, 4, 1]) as tf.Tensor4D
  const maskDy = tf.randomNormal([16, 64, 64, 1]) as tf.Tensor4D
  const xShape: Shape4 = [16, 64, 64, 16]
  const cat = tf.concat([x, dy], 3)
  const conv = { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined }
  const conv2 = { ...conv, strides: 2 }
  const dwAttrs = { strides: 1, pad: 'same', dilations: 1 }
  const pool = { filterSize: 2, strides: 2, pad: 'same' }
  const grad = (f: (t: tf.Tensor4D) => tf.Tensor) => () => tf.grad((t: tf.Tensor) => tf.sum(f(t as tf.Tensor4D)))(x)
  return [
    { group: 'conv 3x3 16→16, s1 same', name: 'forward', fn: () => tf.conv2d(x, w, 1, 'same') },
    { group: 'conv 3x3 16→16, s1 same', name: 'backprop input', fn: run(tf.Conv2DBackpropInput, { dy, filter: w }, { ...conv, inputShape: xShape }) },
    { group: 'conv 3x3 16→16, s1 same', name: 'backprop filter', fn: run(tf.Conv2DBackpropFilter, { x, dy }, { ...conv, filterShape: w.shape }) },
    { group: 'conv 3x3 16→16, s2 same', name: 'forward', fn: () => tf.conv2d(x, w, 2, 'same') },
    { group: 'conv 3x3 16→16, s2 same', name: 'backprop input', fn: run(tf.Conv2DBackpropInput, { dy: dy2, filter: w }, { ...conv2, inputShape: xShape }) },
    { group: 'conv 3x3 16→16, s2 same', name: 'backprop filter', fn: run(tf.Conv2DBackpropFilter, { x, dy: dy2 }, { ...conv2, filterShape: w.shape }) },
    { group: 'conv 3x3 16→16, dilation 2', name: 'forward', fn: () => tf.conv2d(x, w, 1, 'same', 'NHWC', 2) },
    { group: 'conv 3x3 16→16, dilation 2', name: 'grad wrt input', fn: grad((t) => tf.conv2d(t, w, 1, 'same', 'NHWC', 2)) },
    { group: 'depthwise 3x3 ×16, s1 same', name: 'forward', fn: () => tf.depthwiseConv2d(x, dw, 1, 'same') },
    {
      group: 'depthwise 3x3 ×16, s1 same',
      name: 'backprop input',
      fn: run(tf.DepthwiseConv2dNativeBackpropInput, { dy, filter: dw }, { ...dwAttrs, inputShape: xShape })
    },
    {
      group: 'depthwise 3x3 ×16, s1 same',
      name: 'backprop filter',
      fn: run(tf.DepthwiseConv2dNativeBackpropFilter, { x, dy }, { ...dwAttrs, filterShape: dw.shape })
    },
    { group: 'maxPool 2x2 s2', name: 'forward', fn: () => tf.maxPool(x, 2, 2, 'same') },
    { group: 'maxPool 2x2 s2', name: 'MaxPoolGrad', fn: run(tf.MaxPoolGrad, { dy: dy2, input: x, output: small }, pool) },
    { group: 'avgPool 2x2 s2', name: 'forward', fn: () => tf.avgPool(x, 2, 2, 'same') },
    { group: 'avgPool 2x2 s2', name: 'AvgPoolGrad', fn: run(tf.AvgPoolGrad, { dy: dy2, input: x }, pool) },
    { group: 'resizeBilinear 32→64 (half-pixel)', name: 'forward', fn: () => tf.image.resizeBilinear(small, [64, 64], false, true) },
    {
      group: 'resizeBilinear 32→64 (half-pixel)',
      name: 'ResizeBilinearGrad',
      fn: run(tf.ResizeBilinearGrad, { dy, images: small }, { alignCorners: false, halfPixelCenters: true })
    },
    { group: 'concat 16+16 channels', name: 'forward', fn: () => tf.concat([x, dy], 3) },
    { group: 'concat 16+16 channels', name: 'split (its grad)', fn: () => tf.split(cat, 2, 3)[1] },
    {
      group: 'batchNorm (training) 16 ch',
      name: 'grad wrt input',
      fn: grad((t) => {
        const m = tf.moments(t, [0, 1, 2])
        return tf.batchNorm(t, m.mean, m.variance, tf.zeros([16]), tf.ones([16]), 1e-3)
      })
    },
    { group: 'mask 4×4→64×64 (half-pixel)', name: 'ResizeBilinearGrad', fn: run(tf.ResizeBilinearGrad, { dy: maskDy, images: mask }, { alignCorners: false, halfPixelCenters: true }) }
  ]
}

const fmt = (r: { min: number; median: number } | null) => (r == null ? 'missing'.padStart(17) : `${r.min.toFixed(1).padStart(7)} / ${r.median.toFixed(1).padStart(7)}`)

async function main(): Promise<void> {
  await tf.setBackend('wasm')
  await tf.ready()
  console.log(`wasm backend, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, ${REPS} reps; ms as min / median`)
  const stock = cases().map((c) => time(c.fn))
  registerWasmKernels()
  const ours = cases().map((c) => time(c.fn))
  console.log(`${'layer'.padEnd(36)}${'kernel'.padEnd(20)}${'stock'.padStart(17)}  ${'engine'.padStart(17)}`)
  cases().forEach((c, i) => console.log(`${c.group.padEnd(36)}${c.name.padEnd(20)}${fmt(stock[i])}  ${fmt(ours[i])}`))
  console.log('(ResizeBilinearGrad: the stock kernel ignores halfPixelCenters, so its time is for a wrong result.)')
}

void main()
