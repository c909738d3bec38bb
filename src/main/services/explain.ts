import { resolve } from 'node:path'
import { faithfulnessParams } from '@common/saliency'
import { explainImage } from '../explain/explainImage'
import { poolEngine, queuedMessage } from '../jobs/saliencyEngine'
import { ensureDescribed } from '../modelImport'
import { requireModelRuntime } from '../modelImport/runtime'
import { presetSaliencyParams } from '../saliency'
import type { explainMethods } from '@common/methods/explain'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'

export function explainServices(ctx: ServiceContext): AreaServices<typeof explainMethods> {
  return {
    'explain:image': (input) =>
      ctx.tasks.run(`explain ${input.method}`, async (task) => {
        const modelDir = resolve(input.modelDir)
        const sidecar = await ensureDescribed(modelDir, input.description)
        await requireModelRuntime(modelDir, sidecar)
        // Checked before the engine starts: bad parameters fail here as they would in explainImage.
        const faithfulness = faithfulnessParams(presetSaliencyParams(input.method, input.preset, input.params), input.preset)
        // Its pictures are at image size: the workers upsample, off the thread that serves the caller.
        const engine = poolEngine(await ctx.engine(), modelDir, sidecar, { priority: 'interactive', faithfulness, upsample: true })
        return explainImage(engine, { ...input, imagePath: resolve(input.imagePath), outDir: resolve(input.outDir) }, {
          signal: task.signal,
          onQueued: (load) => task.progress(0, 0, queuedMessage(load)),
          onProgress: (step, steps) => task.progress(step, steps)
        })
      }, { interactive: true })
  }
}
