import type { GradRule } from './types'

/** Backward rules of the spatial ops (Conv, ConvTranspose, BatchNormalization, pools, Resize, Pad). */
export const spatialRules: Record<string, GradRule> = {}
