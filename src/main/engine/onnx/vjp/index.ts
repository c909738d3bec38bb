import { activationRules } from './activations'
import { elementwiseRules } from './elementwise'
import { linearRules } from './linear'
import { reduceRules } from './reduce'
import { spatialRules } from './spatial'
import { structureRules } from './structure'
import type { GradRule } from './types'

export const coreRules: Record<string, GradRule> = { ...elementwiseRules, ...activationRules, ...structureRules, ...linearRules, ...reduceRules }

/** Every op with an input-gradient rule, by ONNX op type (default domain). */
export const gradRules: Record<string, GradRule> = { ...coreRules, ...spatialRules }
