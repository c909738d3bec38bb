/**
 * UnsortedSegmentSum for wasm, which has no such kernel: it is the gradient of tf.gather (picking class channels
 * out of a softmax, embedding lookups), so without it no gradient passes a gather on wasm. A scatter-add over the
 * backend's memory is exact and linear in the input size.
 */
import * as tf from '@tensorflow/tfjs'
import { runLoopKernel } from '../impl/heap'

export function unsortedSegmentSum(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.Tensor {
  const { inputs, backend } = args
  const x = inputs.x
  const segmentIds = inputs.segmentIds
  if (x == null || segmentIds == null) throw new Error('UnsortedSegmentSum: inputs x and segmentIds are required')
  const numSegments = (args.attrs as unknown as tf.UnsortedSegmentSumAttrs).numSegments
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1)
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)]
  const inner = outShape.slice(1).reduce((a, b) => a * b, 1)
  return runLoopKernel(backend, [segmentIds, x], outShape, x.dtype === 'int32' ? 'int32' : 'float32', (out, ids, values) => {
    for (let r = 0; r < rows; r++) {
      const s = ids[r]
      // TensorFlow drops ids outside [0, numSegments).
      if (s < 0 || s >= numSegments) continue
      const src = r * inner
      const dst = s * inner
      for (let i = 0; i < inner; i++) out[dst + i] += values[src + i]
    }
  })
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc
}
