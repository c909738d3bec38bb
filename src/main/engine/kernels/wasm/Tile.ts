/**
 * Tile for wasm. The stock kernel computes a source index per output element and is slow enough that tfjs's
 * batchNorm gradient (which tiles mean, variance and scale up to the input's shape) spent ~120 of ~270 ms in Tile
 * for one [16,64,64,16] training step. Tiling is block copying: axes are expanded from the innermost outwards,
 * each step replicating contiguous blocks with TypedArray.set.
 */
import * as tf from '@tensorflow/tfjs'
import { stockKernel } from '../impl/stock'

interface HeapBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray
}

type Numeric = Float32Array | Int32Array | Uint8Array

function tileInto(x: Numeric, shape: number[], reps: number[], out: Numeric): void {
  const s = [...shape]
  let src: Numeric = x
  let last = 0
  while (last < reps.length && reps[last] === 1) last++
  for (let a = s.length - 1; a >= 0; a--) {
    const n = reps[a]
    if (n === 1) continue
    let outer = 1
    for (let i = 0; i < a; i++) outer *= s[i]
    let block = 1
    for (let i = a; i < s.length; i++) block *= s[i]
    // The outermost expansion writes straight into the output; earlier ones into scratch arrays.
    const dst: Numeric = a === last ? out : new (src.constructor as new (n: number) => Numeric)(outer * block * n)
    for (let o = 0; o < outer; o++) {
      const from = o * block
      const base = from * n
      if (block >= 32) {
        const chunk = src.subarray(from, from + block)
        for (let k = 0; k < n; k++) dst.set(chunk, base + k * block)
      } else {
        for (let k = 0; k < n; k++) for (let j = 0; j < block; j++) dst[base + k * block + j] = src[from + j]
      }
    }
    src = dst
    s[a] *= n
  }
  if (src !== out) out.set(src)
}

export function tile(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const x = args.inputs.x
  if (x == null) throw new Error('Tile: input x is required')
  if (x.dtype === 'string' || x.dtype === 'complex64') {
    const stock = stockKernel(tf.Tile, 'wasm')
    if (stock == null) throw new Error(`Tile: ${x.dtype} tensors need the stock wasm kernel, which was not recorded`)
    return stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo
  }
  const backend = args.backend as HeapBackend
  const { reps } = args.attrs as unknown as tf.TileAttrs
  const outShape = x.shape.map((d, i) => d * reps[i])
  const out = backend.makeOutput(outShape, x.dtype)
  if (outShape.every((d) => d > 0)) {
    tileInto(backend.typedArrayFromHeap(x) as Numeric, x.shape, reps, backend.typedArrayFromHeap(out) as Numeric)
  }
  return out
}

export const tileConfig: tf.KernelConfig = {
  kernelName: tf.Tile,
  backendName: 'wasm',
  kernelFunc: tile as unknown as tf.KernelFunc
}
