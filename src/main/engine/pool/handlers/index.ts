import type { HandlerRegistry } from '../handler'
import { inputGradient } from './inputGradient'
import { predict } from './predict'
import { labels, probabilities } from './segmentation'
import { train } from './train'
import { trainShardHandlers } from './trainShard'

/**
 * The task types the engine itself defines (its payload/result types join TaskMap by declaration merging, see
 * predict.ts). Work built on the engine (saliency) registers its handler module in src/main/engineHandlers.ts
 * instead: the pool loads it by path, so the engine never imports it.
 */
export const builtinHandlers: HandlerRegistry = {
  predict,
  inputGradient,
  train,
  labels,
  probabilities,
  ...trainShardHandlers
}
