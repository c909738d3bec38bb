import type * as tf from '@tensorflow/tfjs'
import type { ModelSpec } from '@common/modelSidecar'
import { Builder, requireDivisible } from './layers'

/**
 * U-Net with a VGG-style encoder: per level two 3×3 conv-BN-ReLU, then 2×2 max pooling; the decoder upsamples
 * bilinearly, concatenates the skip and applies two 3×3 convs with the skip's channel count.
 * Channels are VGG16's 64-128-256-512-512 at a quarter, 16-32-64-128-128 at width 1 and 4 levels, which is the
 * benchmark network (≈1.25M parameters at 64×64×1, 11 classes; its receptive field covers the whole digit).
 */
export function buildUnetVgg(spec: ModelSpec): tf.LayersModel {
  const b = new Builder(spec)
  const levels = spec.levels
  requireDivisible(spec, 2 ** levels, `${levels} poolings`)
  const channels = Array.from({ length: levels + 1 }, (_, i) => b.ch(Math.min(16 * 2 ** i, 128)))

  const input = b.input()
  let x = input
  const skips: tf.SymbolicTensor[] = []
  for (let i = 0; i < levels; i++) {
    x = b.doubleConv(x, channels[i], `enc${i}`)
    skips.push(x)
    x = b.maxPool(x, `pool${i}`)
  }
  x = b.doubleConv(x, channels[levels], 'bottleneck')
  for (let i = levels - 1; i >= 0; i--) {
    x = b.upsample(x, 2, `up${i}`)
    x = b.concat([x, skips[i]], `skip${i}`)
    x = b.doubleConv(x, channels[i], `dec${i}`)
  }
  return b.model(input, b.head(x))
}
