import { join, resolve } from 'node:path'
import { importDataset } from '../datasets/import'
import { generateTextureMnist, writeTextureContactSheet } from '../datasets/textureMnist'
import { appHome } from '../paths'
import type { datasetMethods } from '@common/methods/datasets'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'

export function datasetServices(ctx: ServiceContext): AreaServices<typeof datasetMethods> {
  return {
    'datasets:list': async () => ctx.requireProject().datasets.list(),
    'datasets:import': (options) => {
      const project = ctx.requireProject()
      return ctx.tasks.run('import', (task) =>
        importDataset(
          project,
          { ...options, root: resolve(options.root), thumbnailDir: join(appHome(), 'thumbnails') },
          { signal: task.signal, onProgress: (p) => task.progress(p.done, p.total, p.phase) }
        )
      )
    },
    'datasets:generateTextureMnist': (options) =>
      ctx.tasks.run('texture-MNIST', async (task) => {
        const total = options.trainCount + options.testCount
        const doneBefore = { train: 0, test: options.trainCount }
        const summary = await generateTextureMnist(
          { ...options, outDir: resolve(options.outDir) },
          { signal: task.signal, onProgress: (p) => task.progress(doneBefore[p.split] + p.done, total, p.split) }
        )
        const contactSheet = join(summary.outDir, 'textures.png')
        await writeTextureContactSheet(contactSheet)
        return { ...summary, contactSheet }
      })
  }
}
