/**
 * Slice (and SplitV, which the wasm backend builds from its own slice) for wasm. The stock kernel first copies the
 * whole input out of the heap, then issues one TypedArray.set per innermost row, so slicing along the channel axis
 * — the gradient of every channel concat, i.e. every U-Net skip connection — costs ~15× a forward add. This one
 * reads the heap in place and copies short rows with a plain loop.
 */
import * as tf from '@tensorflow/tfjs'
import { stockKernel } from '../impl/stock'

interface HeapBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray
}

/** Copies x[begin : begin + size] (row-major) into out. */
function copySlice(x: tf.TypedArray, shape: number[], begin: number[], size: number[], out: tf.TypedArray): void {
  // Fold trailing axes that are taken whole into one contiguous run.
  let rank = shape.length
  let run = 1
  while (rank > 1 && begin[rank - 1] === 0 && size[rank - 1] === shape[rank - 1]) {
    run *= shape[rank - 1]
    rank--
  }
  const inner = size[rank - 1] * run
  const strides = new Array<number>(rank)
  strides[rank - 1] = run
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1]
  let base = 0
  for (let i = 0; i < rank; i++) base += begin[i] * strides[i]
  const rows = size.slice(0, rank - 1).reduce((a, b) => a * b, 1)
  const idx = new Array<number>(Math.max(0, rank - 1)).fill(0)
  let src = base
  let dst = 0
  for (let r = 0; r < rows; r++) {
    if (inner >= 64) out.set(x.subarray(src, src + inner), dst)
    else for (let k = 0; k < inner; k++) out[dst + k] = x[src + k]
    dst += inner
    // Odometer over the outer axes.
    for (let a = rank - 2; a >= 0; a--) {
      idx[a]++
      src += strides[a]
      if (idx[a] < size[a]) break
      src -= idx[a] * strides[a]
      idx[a] = 0
    }
  }
}

export function slice(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const x = args.inputs.x
  if (x == null) throw new Error('Slice: input x is required')
  const backend = args.backend as HeapBackend
  if (x.dtype === 'string') {
    const stock = stockKernel(tf.Slice, 'wasm')
    if (stock == null) throw new Error('Slice: string tensors need the stock wasm kernel, which was not recorded')
    return stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo
  }
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size)
  const out = backend.makeOutput(s, x.dtype)
  if (s.every((d) => d > 0)) copySlice(backend.typedArrayFromHeap(x), x.shape, b, s, backend.typedArrayFromHeap(out))
  return out
}

export function splitV(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const x = args.inputs.x
  if (x == null) throw new Error('SplitV: input x is required')
  const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs
  const $axis = tf.util.parseAxisParam(axis, x.shape)[0]
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, $axis)
  const begin = new Array<number>(x.shape.length).fill(0)
  return sizes.map((n) => {
    const size = [...x.shape]
    size[$axis] = n
    const part = slice({ inputs: { x }, backend: args.backend, attrs: { begin: [...begin], size } as unknown as tf.NamedAttrMap })
    begin[$axis] += n
    return part
  })
}

export const sliceConfig: tf.KernelConfig = {
  kernelName: tf.Slice,
  backendName: 'wasm',
  kernelFunc: slice as unknown as tf.KernelFunc
}

export const splitVConfig: tf.KernelConfig = {
  kernelName: tf.SplitV,
  backendName: 'wasm',
  kernelFunc: splitV as unknown as tf.KernelFunc
}
