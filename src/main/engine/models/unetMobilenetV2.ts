import type * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import type { ModelSpec } from '@common/modelSidecar'
import { Builder, MOBILENETV2_STAGES, requireDivisible } from './layers'

/**
 * U-Net with a MobileNetV2 encoder. The stem runs at stride 1 instead of 2 so that, as in the other U-Nets, the
 * decoder has a full-resolution skip and `levels` counts the 2× reductions; the bottleneck table is otherwise
 * MobileNetV2's, grouped by resolution (level 4 ends with the 160- and 320-channel blocks, output stride 16).
 * Channels are rounded to multiples of 8 under the width multiplier, as in MobileNetV2.
 */
export function buildUnetMobilenetV2(spec: ModelSpec): tf.LayersModel {
  const b = new Builder(spec)
  const levels = spec.levels
  if (levels > 4) {
    throw new AppError('INVALID_PARAMETERS', `unet-mobilenetv2 supports at most 4 levels, got ${levels}`, { levels })
  }
  requireDivisible(spec, 2 ** levels, `${levels} stride-2 stages`)

  const input = b.input()
  let x = b.convBnRelu(input, b.ch(32, 8), 'stem', { relu6: true })
  const skips: tf.SymbolicTensor[] = []
  let level = 0
  for (const [si, stage] of MOBILENETV2_STAGES.entries()) {
    if (stage.s === 2) {
      if (level === levels) break
      skips.push(x)
      level++
    }
    for (let r = 0; r < stage.n; r++) {
      x = b.invertedResidual(x, stage.t, b.ch(stage.c, 8), `block${si}_${r}`, { stride: r === 0 ? stage.s : 1 })
    }
  }
  for (let i = levels - 1; i >= 0; i--) {
    x = b.upsample(x, 2, `up${i}`)
    x = b.concat([x, skips[i]], `skip${i}`)
    x = b.doubleConv(x, skips[i].shape[3] as number, `dec${i}`)
  }
  return b.model(input, b.head(x))
}
