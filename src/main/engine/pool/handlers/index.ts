import type { HandlerRegistry } from '../handler'
import { inputGradient } from './inputGradient'
import { predict } from './predict'
import { labels, probabilities, saliency } from './saliency'
import { train } from './train'
import { trainShardHandlers } from './trainShard'

/**
 * Every task type a worker knows. A module adding engine work (saliency, audits) puts its handler in this folder
 * and lists it here; its payload/result types join TaskMap by declaration merging (see predict.ts).
 */
export const builtinHandlers: HandlerRegistry = {
  predict,
  inputGradient,
  train,
  saliency,
  labels,
  probabilities,
  ...trainShardHandlers
}
