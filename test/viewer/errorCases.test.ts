import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contract } from '@common/contract'
import { ServiceContext } from '@main/services/context'
import { createDispatch, type Dispatch } from '@main/services/dispatch'
import { createServices } from '@main/services/index'
import { tempDir } from '../helpers/tempdir'
import { buildErrorCasesProject, PERSON, RIDER, ROAD, type ErrorCasesProject } from './fixtures/errorCasesProject'

/**
 * The error-case queries against a real project file whose segments are written by hand (see the fixture), so
 * every count, sum and order below is known in advance.
 */
const dir = tempDir()
let ctx: ServiceContext
let dispatch: Dispatch
let ids: ErrorCasesProject

async function call<T>(method: keyof typeof contract, input: unknown): Promise<T> {
  const reply = await dispatch(method, input)
  if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code })
  // What crosses the wire must satisfy the contract's output schema too.
  return contract[method].output.parse(reply.result) as T
}

beforeAll(async () => {
  ids = await buildErrorCasesProject(dir.path)
  ctx = new ServiceContext('cli', { backend: 'cpu' })
  dispatch = createDispatch(createServices(ctx))
  await call('project:open', { path: ids.projectPath })
})
afterAll(() => {
  ctx?.dispose()
  dir.cleanup()
})

interface Cells { cells: { gt: number; pred: number; segments: number; area: number }[] }
interface Page { total: number; items: { id: number; imageId: number; path: string; split: string; kind: string; area: number; confidence: number | null }[] }

describe('error cases: the confusion matrix in segments and the segments behind a cell', () => {
  it('counts correct and misclassified segments per (ground truth, prediction) pair of one model on one dataset', async () => {
    const { cells } = await call<Cells>('segments:confusion', { datasetId: ids.datasetA, modelId: ids.model1 })
    expect(cells).toEqual([
      { gt: ROAD, pred: RIDER, segments: 60, area: 1830 },
      { gt: PERSON, pred: ROAD, segments: 1, area: 3 },
      { gt: PERSON, pred: PERSON, segments: 1, area: 50 },
      { gt: RIDER, pred: PERSON, segments: 4, area: 65 }
    ])
    const val = await call<Cells>('segments:confusion', { datasetId: ids.datasetA, modelId: ids.model1, split: 'val' })
    expect(val.cells.find((c) => c.gt === RIDER && c.pred === PERSON)).toEqual({ gt: RIDER, pred: PERSON, segments: 3, area: 60 })
    // Fragments below a minimum area drop out of both the counts and the lists.
    const large = await call<Cells>('segments:confusion', { datasetId: ids.datasetA, modelId: ids.model1, minArea: 10 })
    expect(large.cells.find((c) => c.gt === RIDER && c.pred === PERSON)).toEqual({ gt: RIDER, pred: PERSON, segments: 3, area: 60 })
    expect(large.cells.find((c) => c.gt === PERSON && c.pred === ROAD)).toBeUndefined()
    const largeList = await call<Page>('segments:byPair', { datasetId: ids.datasetA, modelId: ids.model1, gt: RIDER, pred: PERSON, minArea: 10 })
    expect(largeList.items.map((s) => s.area)).toEqual([30, 20, 10])
    const other = await call<Cells>('segments:confusion', { datasetId: ids.datasetA, modelId: ids.model2 })
    expect(other.cells).toEqual([{ gt: RIDER, pred: PERSON, segments: 1, area: 60 }])
  })

  it('lists one cell largest first, pages through it, and names each segment\'s image', async () => {
    const scope = { datasetId: ids.datasetA, modelId: ids.model1, gt: RIDER, pred: PERSON }
    const byArea = await call<Page>('segments:byPair', scope)
    expect(byArea.total).toBe(4)
    expect(byArea.items.map((s) => s.area)).toEqual([30, 20, 10, 5])
    expect(byArea.items[0]).toMatchObject({ id: ids.segments.s30, imageId: ids.images[0], path: 'val/1.png', split: 'val', imageWidth: 8, imageHeight: 8, kind: 'misclassified', confidence: 0.4 })
    const smallest = await call<Page>('segments:byPair', { ...scope, descending: false, limit: 1 })
    expect(smallest.items.map((s) => s.id)).toEqual([ids.segments.s5])
    const page2 = await call<Page>('segments:byPair', { ...scope, offset: 1, limit: 2 })
    expect(page2.total).toBe(4)
    expect(page2.items.map((s) => s.area)).toEqual([20, 10])
    const correct = await call<Page>('segments:byPair', { ...scope, gt: PERSON, pred: PERSON })
    expect(correct.items.map((s) => s.kind)).toEqual(['correct'])
  })

  it('sorts by confidence either way with unknown confidences last', async () => {
    const scope = { datasetId: ids.datasetA, modelId: ids.model1, gt: RIDER, pred: PERSON, sort: 'confidence' }
    const high = await call<Page>('segments:byPair', scope)
    expect(high.items.map((s) => s.confidence)).toEqual([0.9, 0.7, 0.4, null])
    const low = await call<Page>('segments:byPair', { ...scope, descending: false })
    expect(low.items.map((s) => s.confidence)).toEqual([0.4, 0.7, 0.9, null])
  })

  it('answers an empty cell with nothing, and unknown ids or bad input with specific errors', async () => {
    const empty = await call<Page>('segments:byPair', { datasetId: ids.datasetA, modelId: ids.model1, gt: RIDER, pred: ROAD })
    expect(empty).toEqual({ total: 0, items: [] })
    await expect(call('segments:confusion', { datasetId: 999, modelId: ids.model1 })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('dataset with id 999') })
    await expect(call('segments:byPair', { datasetId: ids.datasetA, modelId: 999, gt: 1, pred: 2 })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('model with id 999') })
    await expect(call('segments:byPair', { datasetId: ids.datasetA, modelId: ids.model1, gt: RIDER, pred: PERSON, sort: 'size' })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD', message: expect.stringContaining('sort') })
    await expect(call('segments:byPair', { datasetId: ids.datasetA, modelId: ids.model1, gt: -1, pred: PERSON })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD', message: expect.stringContaining('gt') })
  })
})
