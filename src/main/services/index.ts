import { join, resolve } from 'node:path'
import type { ServiceImpl } from '@common/contract'
import { AppError } from '@common/errors'
import { importDataset } from '../datasets/import'
import { generateTextureMnist, writeTextureContactSheet } from '../datasets/textureMnist'
import { appHome } from '../paths'
import { readSidecar } from '../engine/modelFiles'
import { explainImage } from '../explain/explainImage'
import { poolEngine } from '../explain/saliencyEngine'
import { Project } from '../store/project'
import { appInfo } from './appInfo'
import type { ServiceContext } from './context'

/**
 * The service layer: the one implementation of the contract. Adapters (IPC, HTTP, CLI) validate input against
 * the contract and call these; nothing here knows which adapter called.
 */
export function createServices(ctx: ServiceContext): ServiceImpl {
  return {
    'app:info': () => appInfo(ctx),

    'project:create': async ({ path, name }) => {
      const project = Project.create(resolve(path), name)
      ctx.setProject(project)
      return project.summary()
    },
    'project:open': async ({ path }) => {
      const project = Project.open(resolve(path))
      ctx.setProject(project)
      return project.summary()
    },
    'project:current': async () => ctx.currentProject?.summary() ?? null,
    'project:close': async () => {
      const had = ctx.currentProject !== null
      ctx.setProject(null)
      return { closed: had }
    },

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
      }),

    'explain:image': (input) =>
      ctx.tasks.run(`explain ${input.method}`, async (task) => {
        const modelDir = resolve(input.modelDir)
        const engine = poolEngine(await ctx.engine(), modelDir, await readSidecar(modelDir))
        return explainImage(engine, { ...input, imagePath: resolve(input.imagePath), outDir: resolve(input.outDir) }, {
          signal: task.signal,
          onProgress: (step, steps) => task.progress(step, steps)
        })
      }),

    'tasks:list': async () => ctx.tasks.list(),
    'tasks:cancel': async ({ taskId }) => ({ cancelled: ctx.tasks.cancel(taskId) }),

    'jobs:list': async ({ state }) => ctx.requireProject().jobs.list(state),

    'bookmarks:list': async (filter) => ctx.requireProject().bookmarks.list(filter),
    'bookmarks:add': async (input) => ctx.requireProject().bookmarks.add(input),
    'bookmarks:remove': async ({ id }) => {
      const removed = ctx.requireProject().bookmarks.remove(id)
      if (!removed) throw new AppError('NOT_FOUND', `No bookmark with id ${id}`)
      return { removed }
    },

    'notes:list': async ({ targetKind, targetId }) => ctx.requireProject().notes.list(targetKind, targetId),
    'notes:add': async (input) => ctx.requireProject().notes.add(input)
  }
}
