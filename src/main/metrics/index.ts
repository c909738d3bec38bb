export { ConfusionMatrix } from './iou'
export { contextBias, type ContextBiasResult } from './contextBias'
export {
  aggregateBiasMatrix,
  aggregateContextBias,
  BIAS_MATRIX_ROWS,
  BIAS_MATRIX_COLUMNS,
  biasMatrixRows,
  biasRowLabel,
  orderedStrengths,
  type BiasedStrength,
  type BiasMatrix,
  type BiasMatrixCell,
  type BiasRecordKey,
  type ContextBiasRecord
} from './aggregate'
