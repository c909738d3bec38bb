import { existsSync, readFileSync, rmSync } from 'node:fs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Faithfulness } from '@common/saliency'
import { maskFromRuns, runsArea } from '@common/maskRuns'
import { saliencyDisplayBytes } from '@common/saliencyMap'
import { STREET_CLASS } from '@common/streetScenes'
import { thumbnailFor } from '@main/datasets/import'
import { ServiceContext } from '@main/services/context'
import { createDispatch, type Dispatch } from '@main/services/dispatch'
import { createServices } from '@main/services/index'
import { buildViewerProject, type ViewerProject } from '../e2e/fixtures/viewerProject'
import { tempDir } from '../helpers/tempdir'

/** The viewer's services against a real project file: street scenes, a registered model, stored predictions. */
const dir = tempDir()
let fixture: ViewerProject
let ctx: ServiceContext
let dispatch: Dispatch

async function call<T>(method: string, input: unknown): Promise<T> {
  const reply = await dispatch(method as never, input)
  if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code })
  return reply.result as T
}

beforeAll(async () => {
  fixture = await buildViewerProject(dir.path)
  process.env.CTXLENS_WORKERS = '1'
  ctx = new ServiceContext('cli', { backend: 'cpu' })
  dispatch = createDispatch(createServices(ctx))
  await call('project:open', { path: fixture.projectPath })
})
afterAll(() => {
  ctx?.dispose()
  dir.cleanup()
})

interface Page { total: number; items: { id: number; path: string; split: string; errors: number; explanations: number; bookmarked: boolean }[]; bySplit: Record<string, number> }

describe('viewer services', () => {
  it('pages, counts, searches and sorts images in the database', async () => {
    const all = await call<Page>('images:list', { limit: 2 })
    expect(all.total).toBe(5)
    expect(all.items).toHaveLength(2)
    expect(all.bySplit).toEqual({ train: 3, val: 2 })
    const rest = await call<Page>('images:list', { limit: 10, offset: 2 })
    expect(rest.items.map((i) => i.id)).not.toContain(all.items[0].id)
    const val = await call<Page>('images:list', { split: 'val' })
    expect(val.items.every((i) => i.split === 'val')).toBe(true)
    const byName = await call<Page>('images:list', { sort: 'name', descending: true })
    const names = byName.items.map((i) => i.path)
    expect(names).toEqual([...names].sort().reverse())
    const search = await call<Page>('images:list', { search: 'VAL/00001' })
    expect(search.items.map((i) => i.path)).toEqual([expect.stringMatching(/val.00001/)])
  })

  it('filters the images that have a person predicted as rider, and only those', async () => {
    const errors = await call<Page>('images:list', { error: { gt: STREET_CLASS.person, pred: STREET_CLASS.rider } })
    expect(errors.items.map((i) => i.id)).toEqual([fixture.errorImageId])
    expect(errors.items[0].errors).toBeGreaterThan(0)
    const reverse = await call<Page>('images:list', { error: { gt: STREET_CLASS.rider, pred: STREET_CLASS.person } })
    expect(reverse.total).toBe(0)
    const withCars = await call<Page>('images:list', { classes: [STREET_CLASS.car, STREET_CLASS.road] })
    expect(withCars.total).toBeGreaterThan(0)
  })

  it('serves thumbnails as data URLs', async () => {
    const thumbs = await call<Record<string, string>>('images:thumbnails', { ids: fixture.imageIds.slice(0, 2) })
    expect(Object.keys(thumbs)).toHaveLength(2)
    expect(thumbs[String(fixture.imageIds[0])]).toMatch(/^data:image\/webp;base64,/)
  })

  it('makes a missing thumbnail again once, from the image, and keeps it in the cache', async () => {
    const id = fixture.imageIds[1]
    const cached = thumbnailFor(ctx.requireProject(), id)!
    const before = readFileSync(cached)
    rmSync(cached)
    const again = await call<Record<string, string>>('images:thumbnails', { ids: [id], size: 64 })
    expect(again[String(id)]).toMatch(/^data:image\/webp;base64,/)
    expect(existsSync(cached)).toBe(true)
    expect((await sharp(readFileSync(cached)).metadata()).width).toBe((await sharp(before).metadata()).width)
    // Served from the cache from then on: the bytes sent are the file's.
    const served = await call<Record<string, string>>('images:thumbnails', { ids: [id], size: 64 })
    expect(Buffer.from(served[String(id)].split(',')[1], 'base64').equals(readFileSync(cached))).toBe(true)
  })

  it('gives an image with its label planes and segment masks at the image size', async () => {
    const view = await call<{
      png: string; gt: Uint8Array; prediction: Uint8Array; modelId: number
      segments: { kind: string; gtClass: number; predClass: number; area: number; bbox: number[]; cropMask: Uint8Array }[]
    }>('images:get', { imageId: fixture.errorImageId })
    expect(view.modelId).toBe(fixture.modelId)
    expect(view.png).toMatch(/^data:image\/png;base64,/)
    const gt = view.gt
    const pred = view.prediction
    expect(gt).toBeInstanceOf(Uint8Array)
    expect(gt.length).toBe(64 * 128)
    // The fixture's prediction is the ground truth with persons turned into riders.
    for (let i = 0; i < gt.length; i++) expect(pred[i]).toBe(gt[i] === STREET_CLASS.person ? STREET_CLASS.rider : gt[i])
    const wrong = view.segments.filter((s) => s.kind === 'misclassified')
    expect(wrong.length).toBeGreaterThan(0)
    for (const s of view.segments) {
      expect(s.cropMask.reduce((a, b) => a + b, 0)).toBe(s.area)
      expect(s.cropMask.length).toBe(s.bbox[2] * s.bbox[3])
    }
  })

  it('explains a stored segment, stores it, and lists the image as explained and bookmarked', async () => {
    const view = await call<{ segments: { id: number; kind: string; area: number; predClass: number }[] }>('images:get', { imageId: fixture.errorImageId })
    const segment = view.segments.find((s) => s.kind === 'misclassified')!
    const explanation = await call<{
      id: number; method: string; classId: number; segmentId: number; saliency: Float32Array; saliencyHeight: number; saliencyWidth: number
      width: number; height: number; request: number[]; params: { steps: number; maskHeight: number }; summary: Record<string, unknown>
    }>(
      'explain:segment',
      { imageId: fixture.errorImageId, modelId: fixture.modelId, request: { segmentIds: [segment.id] }, method: 'context', params: { steps: 3 } }
    )
    expect(explanation.classId).toBe(STREET_CLASS.rider)
    expect(explanation.segmentId).toBe(segment.id)
    expect(explanation.params).toMatchObject({ steps: 3, maskHeight: 4 })
    // The request comes as runs: the segment's pixels, and nothing else.
    expect(maskFromRuns(explanation.request, 128, 64).reduce((a, b) => a + b, 0)).toBe(segment.area)
    expect(runsArea(explanation.request)).toBe(segment.area)
    // The map comes at its own 4×4 resolution; the screen draws it at image size.
    expect(explanation.saliency).toBeInstanceOf(Float32Array)
    expect([explanation.saliencyHeight, explanation.saliencyWidth, explanation.saliency.length]).toEqual([4, 4, 16])
    const saliency = saliencyDisplayBytes(explanation)
    expect(saliency.length).toBe(64 * 128)
    // Three steps from the initial 0.5 cannot reach 0: the mask is still visibly there.
    expect(Math.max(...saliency)).toBeGreaterThan(60)
    // Stored with it: the preservation loss, the recovery flag and the deletion check of the mask.
    const summary = explanation.summary as { scoreOriginal: number; preservation: number; recovered: boolean; faithfulness: Faithfulness }
    expect(summary.preservation).toEqual(expect.any(Number))
    expect(typeof summary.recovered).toBe('boolean')
    const f = summary.faithfulness
    expect(f.params).toMatchObject({ steps: 8, randomOrders: 3, baseline: { kind: 'constant', value: 0 } })
    expect(f.fractions).toHaveLength(9)
    expect(f.contextCells).toBe(16)
    expect(f.salient[0]).toBeCloseTo(summary.scoreOriginal, 4)
    expect(f.value).toEqual(expect.any(Number))
    expect(f.value).toBeCloseTo((f.aucRandom! - f.aucSalient!) / f.aucRandom!, 9)

    const listed = await call<{ id: number; saliency: Float32Array }[]>('explanations:list', { imageId: fixture.errorImageId })
    expect(listed.map((e) => e.id)).toContain(explanation.id)
    // Listed as it was returned: the stored low-resolution map, value for value.
    expect(listed.find((e) => e.id === explanation.id)!.saliency).toEqual(explanation.saliency)
    const explained = await call<Page>('images:list', { explained: true })
    expect(explained.items.map((i) => i.id)).toEqual([fixture.errorImageId])

    await call('bookmarks:add', { targetKind: 'explanation', targetId: explanation.id, title: 'rider context', tags: ['bias'] })
    const bookmarked = await call<Page>('images:list', { bookmarked: true })
    expect(bookmarked.items.map((i) => i.id)).toEqual([fixture.errorImageId])
    expect(bookmarked.items[0].bookmarked).toBe(true)
    const notBookmarked = await call<Page>('images:list', { bookmarked: false })
    expect(notBookmarked.total).toBe(4)

    // The perturbed image keeps the request's own pixels (context saliency) and changes the context.
    const perturbed = await call<{ png: string; prediction: Uint8Array }>('explanations:perturbed', { explanationId: explanation.id })
    expect(perturbed.png).toMatch(/^data:image\/png;base64,/)
    expect(perturbed.prediction).toBeInstanceOf(Uint8Array)
    expect(perturbed.prediction.length).toBe(64 * 128)
  })

  it('explains a mask drawn by hand, and refuses an empty one', async () => {
    const runs: number[] = []
    for (let y = 20; y < 30; y++) runs.push(y * 128 + 40, 12)
    const e = await call<{ request: number[]; segmentId: number | null; summary: { faithfulness: Faithfulness } }>('explain:segment', {
      imageId: fixture.imageIds[1], modelId: fixture.modelId, request: { runs }, classId: STREET_CLASS.car, method: 'vg', params: {}
    })
    expect(e.segmentId).toBeNull()
    // A gradient map is measured like a mask, removing context with the preset's perturbation baseline.
    expect(e.summary.faithfulness).toMatchObject({ value: expect.any(Number), params: { baseline: { kind: 'constant', value: 0 } } })
    // The runs it was drawn as come back as they went.
    expect(e.request).toEqual(runs)
    await expect(
      call('explain:segment', { imageId: fixture.imageIds[1], modelId: fixture.modelId, request: { runs: [] }, classId: 5, method: 'context' })
    ).rejects.toMatchObject({ code: 'EMPTY_REQUEST_MASK' })
  })
})

describe('viewer classes', () => {
  it('lists the classes of the project datasets for the filters', async () => {
    const classes = await call<{ id: number; name: string }[]>('images:classes', {})
    expect(classes.map((c) => c.name)).toContain('rider')
    expect(classes.find((c) => c.id === STREET_CLASS.person)?.name).toBe('person')
  })
})

describe('running an explanation', () => {
  it('reports progress as task events and stops on tasks:cancel', async () => {
    const events: { taskId: number; state: string; done: number; total: number }[] = []
    const off = ctx.events.subscribe((e) => {
      if (e.event === 'task:progress' && e.payload.label === 'explain context') events.push(e.payload)
    })
    const running = call('explain:segment', {
      imageId: fixture.errorImageId, modelId: fixture.modelId, request: { segmentIds: [fixture.pick.segmentId] }, method: 'context', params: { steps: 5000 }
    })
    const outcome = running.then(() => 'finished', (err: { code?: string }) => err.code)
    // Cancel once the optimiser has reported a few steps, the way the UI's Cancel button does.
    await expect.poll(() => events.filter((e) => e.state === 'running' && e.done > 2).length, { timeout: 60_000 }).toBeGreaterThan(0)
    const taskId = events[0].taskId
    expect(events.at(-1)!.total).toBe(5000)
    expect(await call('tasks:cancel', { taskId })).toEqual({ cancelled: true })
    expect(await outcome).toBe('CANCELLED')
    await expect.poll(() => events.at(-1)!.state).toBe('cancelled')
    off()
    // Nothing half-done is stored.
    const stored = await call<{ params: { steps: number } }[]>('explanations:list', { imageId: fixture.errorImageId })
    expect(stored.some((e) => e.params.steps === 5000)).toBe(false)
  })
})
