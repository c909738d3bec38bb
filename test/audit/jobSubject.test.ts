import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuditOptionsSchema } from '@common/audit'
import type { JobListItem } from '@common/methods/core'
import { STREET_CLASS } from '@common/streetScenes'
import { createAuditJob } from '@main/audit/jobs'
import { ServiceContext } from '@main/services/context'
import { createDispatch, type Dispatch } from '@main/services/dispatch'
import { createServices } from '@main/services/index'
import { Project } from '@main/store/project'
import { buildViewerProject, type ViewerProject } from '../e2e/fixtures/viewerProject'
import { tempDir } from '../helpers/tempdir'

/** The Jobs list says what each job works on, by the names of a real project's dataset, model and classes. */
const dir = tempDir()
let fixture: ViewerProject
let ctx: ServiceContext
let dispatch: Dispatch

beforeAll(async () => {
  fixture = await buildViewerProject(dir.path)
  const project = Project.open(fixture.projectPath)
  try {
    const datasetId = project.datasets.list()[0].id
    // Created, not run: the list describes a job from its stored parameters whatever its state.
    await createAuditJob(project, AuditOptionsSchema.parse({ datasetId, modelId: fixture.modelId, method: 'grid', preset: 'synthetic', segments: { classes: [STREET_CLASS.rider, STREET_CLASS.person] } }))
    await createAuditJob(project, AuditOptionsSchema.parse({ datasetId, modelId: fixture.modelId, method: 'vg', segments: {} }))
    project.jobs.create('import', { root: '/data/elsewhere' }, [])
  } finally {
    project.close()
  }
  process.env.CTXLENS_WORKERS = '1'
  ctx = new ServiceContext('cli', { backend: 'cpu' })
  dispatch = createDispatch(createServices(ctx))
  await dispatch('project:open', { path: fixture.projectPath })
})
afterAll(() => {
  ctx?.dispose()
  dir.cleanup()
})

describe('jobs:list', () => {
  it('names the dataset, model, requested classes, method and preset of each job; a kind without them gets nulls', async () => {
    const reply = await dispatch('jobs:list', {})
    if (!reply.ok) throw new Error(reply.error.message)
    const [other, all, some] = reply.result as JobListItem[]
    const dataset = ctx.requireProject().datasets.list()[0].name
    expect(some.subject).toEqual({ dataset, model: 'untrained-unet', classes: ['rider', 'person'], method: 'grid', preset: 'synthetic' })
    expect(all.subject).toEqual({ dataset, model: 'untrained-unet', classes: null, method: 'vg', preset: 'cityscapes' })
    expect(other).toMatchObject({ kind: 'import', subject: { dataset: null, model: null, classes: null, method: null, preset: null } })
  })
})
