import * as ort from 'onnxruntime-node'
import * as tf from '@tensorflow/tfjs'
import { encodeModel } from '@main/engine/onnx/ir'
import { layersModelToOnnx } from '@main/engine/export/layersToOnnx'
import { uniform01 } from '@main/prng'

/** Seeded uniform values in [lo, hi). */
export function seededArray(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const r = uniform01(seed)
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r())
}

/** Non-trivial batch-norm statistics (the zoo initialises them to 0/1, which any folding would get right). */
export function randomiseBatchNorms(model: tf.LayersModel, seed: number): void {
  let s = seed
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue
    layer.setWeights(
      layer.getWeights().map((w, i) => {
        const u = tf.tensor(seededArray(w.size, ++s), w.shape)
        // gamma around 1, beta and mean around 0, variance positive.
        return i === 0 ? u.add(0.5) : i === 1 ? u.sub(0.5) : i === 2 ? u.sub(0.5).mul(0.4) : u.add(0.5)
      })
    )
  }
}

export interface Comparison {
  maxAbsDiff: number
  tfjs: Float32Array
  onnx: Float32Array
  dims: readonly number[]
}

/** Runs the model on tfjs (current backend) and its export on ONNX Runtime with the same NHWC batch. */
export async function compareWithOrt(model: tf.LayersModel, batch: number, seed: number, range: [number, number] = [0, 1], bytes?: Uint8Array): Promise<Comparison> {
  const onnxBytes = bytes ?? encodeModel(layersModelToOnnx(model))
  const shape = [batch, ...(model.inputs[0].shape.slice(1) as number[])]
  const input = seededArray(shape.reduce((a, b) => a * b, 1), seed, range[0], range[1])
  const reference = tf.tidy(() => model.predict(tf.tensor(input, shape)) as tf.Tensor)
  const tfjs = (await reference.data()) as Float32Array
  reference.dispose()
  const session = await ort.InferenceSession.create(onnxBytes, { intraOpNumThreads: 1 })
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, shape) })
    const y = out[session.outputNames[0]]
    const onnx = y.data as Float32Array
    let maxAbsDiff = onnx.length === tfjs.length ? 0 : Infinity
    for (let i = 0; i < tfjs.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(tfjs[i] - onnx[i]))
    if (Number.isNaN(maxAbsDiff)) maxAbsDiff = Infinity
    return { maxAbsDiff, tfjs, onnx, dims: y.dims }
  } finally {
    await session.release()
  }
}

/** [min, max] without spreading (model outputs overflow the argument limit). */
export function range(values: Float32Array): [number, number] {
  let lo = Infinity
  let hi = -Infinity
  for (const v of values) {
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  return [lo, hi]
}
