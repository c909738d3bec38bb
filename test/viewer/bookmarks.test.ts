import { renameSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BookmarkCase, BookmarkThumbnails } from '@common/methods/annotations'
import { STREET_CLASS, STREET_SCENE_CLASSES } from '@common/streetScenes'
import { datasetSource } from '@main/datasets/import'
import { ServiceContext } from '@main/services/context'
import { createDispatch, type Dispatch } from '@main/services/dispatch'
import { createServices } from '@main/services/index'
import { Project } from '@main/store/project'
import { buildViewerProject, type ViewerProject } from '../e2e/fixtures/viewerProject'
import { tempDir } from '../helpers/tempdir'

/**
 * The Bookmarks screen's services on a real project file: street scenes with stored predictions, a misclassified
 * segment with a stored explanation, bookmarks of each kind. Thumbnails are made from the image files themselves.
 */
const dir = tempDir()
let fixture: ViewerProject
let ctx: ServiceContext
let dispatch: Dispatch
let explanationId: number

async function call<T>(method: string, input: unknown): Promise<T> {
  const reply = await dispatch(method as never, input)
  if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code })
  return reply.result as T
}

async function decode(url: string): Promise<{ width: number; height: number; data: Buffer }> {
  const { data, info } = await sharp(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')).raw().toBuffer({ resolveWithObject: true })
  return { width: info.width, height: info.height, data }
}

beforeAll(async () => {
  fixture = await buildViewerProject(dir.path)
  // A context explanation of the misclassified segment whose saliency fills the left half of its 4 x 8 grid.
  const project = Project.open(fixture.projectPath)
  try {
    const segment = project.segments.get(fixture.pick.segmentId)!
    const saliency = new Float32Array(32)
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) saliency[y * 8 + x] = 1
    explanationId = project.explanations.insert({
      imageId: segment.imageId,
      modelId: fixture.modelId,
      segmentId: segment.id,
      method: 'context',
      classId: STREET_CLASS.rider,
      request: project.segments.mask(segment.id)!,
      params: {},
      saliency,
      saliencyHeight: 4,
      saliencyWidth: 8,
      summary: {}
    })
  } finally {
    project.close()
  }
  process.env.CTXLENS_WORKERS = '1'
  ctx = new ServiceContext('cli', { backend: 'cpu' })
  dispatch = createDispatch(createServices(ctx))
  await call('project:open', { path: fixture.projectPath })
  await call('bookmarks:add', { targetKind: 'segment', targetId: fixture.pick.segmentId, title: 'person taken for a rider', tags: ['failure', 'rider'] })
  await call('notes:add', { targetKind: 'image', targetId: fixture.errorImageId, body: 'Every person on this image is predicted as rider.' })
  await call('bookmarks:add', { targetKind: 'image', targetId: fixture.imageIds[1], title: 'busy street', tags: [] })
})
afterAll(() => {
  ctx?.dispose()
  dir.cleanup()
})

function imageFile(imageId: number): string {
  const project = ctx.requireProject()
  const image = project.datasets.image(imageId)!
  return join(datasetSource(project, image.datasetId).root, image.path)
}

describe('bookmark services', () => {
  it('name what each bookmark stands for by file, class and place, with the explanation and the notes of its image', async () => {
    const cases = await call<BookmarkCase[]>('bookmarks:cases', {})
    expect(cases.map((c) => c.bookmark.title)).toEqual(['busy street', 'person taken for a rider'])
    const segment = cases[1]
    expect(segment.image).toMatchObject({ id: fixture.errorImageId, dataset: expect.any(String) })
    expect(segment.image!.name).toMatch(/^\d+\.png$/)
    expect(['train', 'val']).toContain(segment.image!.split)
    expect(segment.segment).toMatchObject({ id: fixture.pick.segmentId, kind: 'misclassified', gt: 'person', pred: 'rider', area: fixture.pick.area })
    expect(segment.explanation).toEqual({ id: explanationId, method: 'context', className: 'rider', modelId: fixture.modelId })
    expect(segment.notes.map((n) => n.body)).toEqual(['Every person on this image is predicted as rider.'])
    expect(cases[0]).toMatchObject({ segment: null, explanation: null, notes: [], problem: null })
  })

  it('make image, prediction and saliency thumbnails of the asked width, the same ones again from the cache', async () => {
    const [busy, person] = (await call<BookmarkCase[]>('bookmarks:cases', {})).map((c) => c.bookmark.id)
    const first = await call<Record<string, BookmarkThumbnails>>('bookmarks:thumbnails', { ids: [person, busy], width: 64 })
    expect(Object.keys(first).sort()).toEqual([String(busy), String(person)].sort())
    const t = first[String(person)]
    expect(t.problem).toBeNull()
    expect(t.image).toMatch(/^data:image\/jpeg;base64,/)
    expect(t.prediction).toMatch(/^data:image\/png;base64,/)
    for (const url of [t.image!, t.prediction!, t.saliency!]) expect(await decode(url)).toMatchObject({ width: 64, height: 32 })
    // The saliency (left half of the grid) is red on the left and absent on the right.
    const sal = await decode(t.saliency!)
    const redness = (x: number, y: number) => sal.data[(y * 64 + x) * 3] - sal.data[(y * 64 + x) * 3 + 1]
    expect(redness(8, 16)).toBeGreaterThan(100)
    expect(redness(56, 16)).toBeLessThan(60)
    // The image thumbnail outlines the request (the segment) in blue.
    const img = await decode(t.image!)
    const blue = Array.from({ length: 64 * 32 }, (_, i) => i).filter((i) => img.data[i * 3 + 2] > 200 && img.data[i * 3 + 2] > img.data[i * 3] + 100)
    expect(blue.length).toBeGreaterThan(0)
    // The prediction in the street palette: riders (the fixture predicts this image's persons as riders), no persons.
    const pred = await decode(t.prediction!)
    const has = (c: readonly number[]) => Array.from({ length: 64 * 32 }, (_, i) => i).some((i) => c.every((v, k) => pred.data[i * 3 + k] === v))
    expect(has(STREET_SCENE_CLASSES.find((c) => c.id === STREET_CLASS.rider)!.color)).toBe(true)
    expect(has(STREET_SCENE_CLASSES.find((c) => c.id === STREET_CLASS.person)!.color)).toBe(false)
    // An image bookmark without an explanation still gets its saliency frame (the image, nothing laid over it).
    expect(first[String(busy)]).toMatchObject({ problem: null, saliency: expect.stringMatching(/^data:image\/jpeg;base64,/) })

    // Made once: asked again with the image file out of the way, the same thumbnails come from the cache.
    const file = imageFile(fixture.errorImageId)
    renameSync(file, `${file}.away`)
    try {
      const again = await call<Record<string, BookmarkThumbnails>>('bookmarks:thumbnails', { ids: [person], width: 64 })
      expect(again[String(person)]).toEqual(t)
    } finally {
      renameSync(`${file}.away`, file)
    }
  })

  it('says why a bookmark has no thumbnails when its image file is gone, and makes them once it is back', async () => {
    const image = ctx.requireProject().datasets.image(fixture.imageIds[1])!
    const file = imageFile(image.id)
    const busy = (await call<BookmarkCase[]>('bookmarks:cases', {}))[0].bookmark.id
    renameSync(file, `${file}.moved`)
    try {
      const gone = await call<Record<string, BookmarkThumbnails>>('bookmarks:thumbnails', { ids: [busy], width: 48 })
      expect(gone[String(busy)]).toMatchObject({ image: null, prediction: null, saliency: null })
      expect(gone[String(busy)].problem).toContain(image.path.split('/').pop()!)
    } finally {
      renameSync(`${file}.moved`, file)
    }
    const back = await call<Record<string, BookmarkThumbnails>>('bookmarks:thumbnails', { ids: [busy], width: 48 })
    expect(back[String(busy)].problem).toBeNull()
    expect(back[String(busy)].image).toMatch(/^data:image\/jpeg;base64,/)
  })
})
