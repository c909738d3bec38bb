import { convGrad, convTransposeGrad } from './conv'
import { batchNormGrad } from './normalization'
import type { GradRule } from './types'

/** Backward rules of the spatial ops (Conv, ConvTranspose, BatchNormalization, pools, Resize, Pad). */
export const spatialRules: Record<string, GradRule> = {
  Conv: convGrad,
  ConvTranspose: convTransposeGrad,
  BatchNormalization: batchNormGrad
}
