import type * as tf from '@tensorflow/tfjs'
import type { ModelSpec } from '@common/modelSidecar'
import { Builder, requireDivisible } from './layers'

/**
 * U-Net with a ResNet18-style encoder: two basic blocks per stage, the first of each stage downsampling with
 * stride 2 (1×1 projection shortcut). ResNet18's 7×7 stride-2 stem and max pooling are replaced by one 3×3 conv at
 * full resolution: on 64×64 inputs a 4× reduction before the first block would leave no full-resolution skip
 * for the decoder. Stage channels are ResNet18's 64-128-256-512 at a quarter (16-32-64-128 at width 1).
 */
export function buildUnetResnet18(spec: ModelSpec): tf.LayersModel {
  const b = new Builder(spec)
  const levels = spec.levels
  requireDivisible(spec, 2 ** levels, `${levels} stride-2 stages`)

  const basicBlock = (x: tf.SymbolicTensor, filters: number, stride: number, name: string): tf.SymbolicTensor => {
    let h = b.convBnRelu(x, filters, `${name}_a`, { stride })
    h = b.norm(b.conv(h, filters, `${name}_b_conv`), `${name}_b_bn`)
    let shortcut = x
    if (stride !== 1 || (x.shape[3] as number) !== filters) {
      shortcut = b.norm(b.conv(x, filters, `${name}_proj_conv`, { kernel: 1, stride }), `${name}_proj_bn`)
    }
    return b.relu(b.add([h, shortcut], `${name}_add`), `${name}_relu`)
  }

  const input = b.input()
  let x = b.convBnRelu(input, b.ch(16), 'stem')
  const skips: tf.SymbolicTensor[] = [x]
  for (let stage = 1; stage <= levels; stage++) {
    const filters = b.ch(Math.min(16 * 2 ** (stage - 1), 128))
    x = basicBlock(x, filters, 2, `stage${stage}_block0`)
    x = basicBlock(x, filters, 1, `stage${stage}_block1`)
    if (stage < levels) skips.push(x)
  }
  for (let i = levels - 1; i >= 0; i--) {
    x = b.upsample(x, 2, `up${i}`)
    x = b.concat([x, skips[i]], `skip${i}`)
    x = b.doubleConv(x, skips[i].shape[3] as number, `dec${i}`)
  }
  return b.model(input, b.head(x))
}
