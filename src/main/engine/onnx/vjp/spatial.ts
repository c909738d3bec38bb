import { convGrad, convTransposeGrad } from './conv'
import { batchNormGrad } from './normalization'
import { padGrad } from './pad'
import { averagePoolGrad, globalAveragePoolGrad, globalMaxPoolGrad, maxPoolGrad } from './pool'
import { resizeGrad } from './resize'
import type { GradRule } from './types'

/** Backward rules of the spatial ops (Conv, ConvTranspose, BatchNormalization, pools, Resize, Pad). */
export const spatialRules: Record<string, GradRule> = {
  Conv: convGrad,
  ConvTranspose: convTransposeGrad,
  BatchNormalization: batchNormGrad,
  MaxPool: maxPoolGrad,
  AveragePool: averagePoolGrad,
  GlobalAveragePool: globalAveragePoolGrad,
  GlobalMaxPool: globalMaxPoolGrad,
  Resize: resizeGrad,
  Upsample: resizeGrad,
  Pad: padGrad
}
