import * as tf from '@tensorflow/tfjs'

/** The two BackendWasm methods that give kernels direct access to tensors in the wasm heap. */
interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray
}

function heapBackend(backend: tf.KernelBackend): HeapBackend | null {
  const b = backend as unknown as Partial<HeapBackend>
  return typeof b.makeOutput === 'function' && typeof b.typedArrayFromHeap === 'function' ? (b as HeapBackend) : null
}

/**
 * Runs a JS loop kernel over the backend's own memory: on wasm, views into the heap (no copies in or out);
 * elsewhere, copies via readSync and a new tensor. `fn` receives a zeroed output array and the input arrays.
 */
export function runLoopKernel(
  backend: tf.KernelBackend,
  inputs: tf.TensorInfo[],
  outShape: number[],
  outDtype: 'float32' | 'int32',
  fn: (out: Float32Array | Int32Array, ...ins: tf.TypedArray[]) => void
): tf.TensorInfo | tf.Tensor {
  const heap = heapBackend(backend)
  if (heap != null) {
    // Allocate first: growing the heap would detach views taken earlier.
    const out = heap.makeOutput(outShape, outDtype)
    const data = heap.typedArrayFromHeap(out) as Float32Array | Int32Array
    data.fill(0)
    fn(data, ...inputs.map((t) => heap.typedArrayFromHeap(t)))
    return out
  }
  const size = outShape.reduce((a, b) => a * b, 1)
  const data = outDtype === 'int32' ? new Int32Array(size) : new Float32Array(size)
  fn(data, ...inputs.map((t) => backend.readSync(t.dataId) as tf.TypedArray))
  return tf.tensor(data, outShape, outDtype)
}
