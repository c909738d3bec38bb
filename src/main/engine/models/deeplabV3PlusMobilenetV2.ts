import type * as tf from '@tensorflow/tfjs'
import type { ModelSpec } from '@common/modelSidecar'
import { Builder, MOBILENETV2_STAGES, requireDivisible } from './layers'

export const DEFAULT_ATROUS_RATES: [number, number, number] = [6, 12, 18]

/**
 * DeepLabv3+ with a MobileNetV2 backbone at output stride 16 (Chen et al. 2018).
 * - Backbone: MobileNetV2; the last stride-2 stage (160 channels) keeps stride 1 and dilates its depthwise convs
 *   by 2 instead, as does the 320-channel block after it.
 * - ASPP: a 1×1 branch, three 3×3 atrous branches (rates 6, 12, 18 by default) and an image-pooling branch, each
 *   conv-BN-ReLU with 256 channels at width 1, concatenated and projected by a 1×1 conv.
 * - Decoder: ASPP output upsampled 4× (bilinear), concatenated with the stride-4 backbone features reduced to 48
 *   channels, two 3×3 conv-BN-ReLU, a 1×1 classifier, then 4× bilinear upsampling to the input size and softmax.
 * `levels` does not apply: the output stride is fixed at 16.
 */
export function buildDeeplabV3PlusMobilenetV2(spec: ModelSpec): tf.LayersModel {
  const b = new Builder(spec)
  requireDivisible(spec, 16, 'output stride 16')
  const [h, w] = spec.inputShape
  const rates = spec.atrousRates ?? DEFAULT_ATROUS_RATES

  const input = b.input()
  let x = b.convBnRelu(input, b.ch(32, 8), 'stem', { stride: 2, relu6: true })
  let stride = 2
  let dilation = 1
  let lowLevel: tf.SymbolicTensor | null = null
  for (const [si, stage] of MOBILENETV2_STAGES.entries()) {
    let s = stage.s
    if (s === 2 && stride === 16) {
      // Beyond output stride 16 the stage trades its stride for dilation, keeping the receptive field growing.
      s = 1
      dilation *= 2
    }
    if (s === 2 && stride === 4 && lowLevel === null) lowLevel = x
    for (let r = 0; r < stage.n; r++) {
      const first = r === 0
      // The first block of a dilated stage still sees the previous dilation, as in the reference implementation.
      const d = first && s === 1 && stage.s === 2 ? Math.max(1, dilation / 2) : dilation
      x = b.invertedResidual(x, stage.t, b.ch(stage.c, 8), `block${si}_${r}`, { stride: first ? s : 1, dilation: d })
    }
    stride *= s
  }
  if (lowLevel === null) throw new Error('DeepLab backbone has no stride-4 features')

  const asppChannels = b.ch(256, 8)
  const branches = [b.convBnRelu(x, asppChannels, 'aspp0', { kernel: 1 })]
  rates.forEach((rate, i) => branches.push(b.convBnRelu(x, asppChannels, `aspp${i + 1}`, { dilation: rate })))
  const fh = h / 16
  const fw = w / 16
  let pooled = b.globalPool(x, 'aspp_pool_gap')
  pooled = b.convBnRelu(pooled, asppChannels, 'aspp_pool', { kernel: 1 })
  // From 1×1 to the feature size: nearest upsampling is an exact broadcast.
  branches.push(b.upsample(pooled, [fh, fw], 'aspp_pool_upsample', 'nearest'))
  let y = b.convBnRelu(b.concat(branches, 'aspp_concat'), asppChannels, 'aspp_project', { kernel: 1 })

  y = b.upsample(y, 4, 'decoder_upsample')
  const low = b.convBnRelu(lowLevel, b.ch(48, 8), 'decoder_low', { kernel: 1 })
  y = b.concat([y, low], 'decoder_concat')
  y = b.convBnRelu(y, asppChannels, 'decoder_a')
  y = b.convBnRelu(y, asppChannels, 'decoder_b')
  return b.model(input, b.head(y, 4))
}

