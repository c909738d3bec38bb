import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { describe, expect, it } from 'vitest'
import type { SaliencyParamsInput } from '../../src/common/saliency'
import type { SegmentationModel } from '../../src/main/saliency'
import { tfjsSegmentationModel } from '../../src/main/engine/tfjsModel'
import { computeOne, maxAbsDiff, randomImage, rectMask } from './models'

/**
 * The same saliency on the stock wasm backend as on the CPU backend. The model uses plain (unfused) convolutions:
 * their input gradient exists on stock wasm, while fused ones also need Conv2DBackpropFilter, which only the
 * engine's kernels provide.
 */
function plainConvModel(): SegmentationModel {
  const w1 = tf.tensor4d(Array.from({ length: 3 * 3 * 1 * 4 }, (_, i) => Math.sin(i * 1.7) * 0.6), [3, 3, 1, 4])
  const w2 = tf.tensor4d(Array.from({ length: 3 * 3 * 4 * 3 }, (_, i) => Math.cos(i * 0.9) * 0.5), [3, 3, 4, 3])
  return tfjsSegmentationModel({
    inputShape: [16, 16, 1],
    numClasses: 3,
    inputRange: [0, 1],
    predict: (x) => tf.tidy(() => tf.softmax(tf.conv2d(tf.tanh(tf.conv2d(x, w1, 1, 'same')), w2, 1, 'same')) as tf.Tensor4D)
  })
}

describe('on the wasm backend', () => {
  it('gives the CPU backend’s context saliency and VG', async () => {
    expect(await tf.setBackend('cpu')).toBe(true)
    const model = plainConvModel()
    const req = { image: randomImage(16, 16, 1, 21), request: rectMask(16, 16, 5, 11, 5, 11), classId: 1 }
    const runs: SaliencyParamsInput[] = [
      { method: 'context', steps: 20, lambda: 0.01, learningRate: 0.5 },
      { method: 'vg', saliencyHeight: 16, saliencyWidth: 16 }
    ]
    const results: Record<string, Float32Array[]> = { cpu: [], wasm: [] }
    for (const backend of ['cpu', 'wasm'] as const) {
      expect(await tf.setBackend(backend)).toBe(true)
      for (const p of runs) {
        const r = await computeOne(model, req, p)
        results[backend].push(r.mask)
      }
    }
    expect(maxAbsDiff(results.wasm[0], results.cpu[0])).toBeLessThan(1e-4)
    expect(Math.max(...results.cpu[0]) - Math.min(...results.cpu[0])).toBeGreaterThan(0.05)
    const scale = Math.max(...results.cpu[1])
    expect(maxAbsDiff(results.wasm[1], results.cpu[1])).toBeLessThan(1e-4 * scale)
  })
})
