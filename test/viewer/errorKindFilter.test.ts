import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ImageFilterSchema } from '@common/methods/viewer'
import { STREET_CLASS } from '@common/streetScenes'
import { Project } from '@main/store/project'
import { listImages } from '@main/viewer/imageQuery'
import { buildViewerProject, type ViewerProject } from '../e2e/fixtures/viewerProject'
import { tempDir } from '../helpers/tempdir'

/**
 * The dataset browser's error filter with one side open ("rider → any"), in SQL over a real project: the viewer
 * fixture's first image has its persons predicted as riders; here a second image gets a car predicted as building
 * and a person predicted as rider, so its errors are of two kinds.
 */
const dir = tempDir()
let fixture: ViewerProject
let project: Project
let mixed: number

beforeAll(async () => {
  fixture = await buildViewerProject(dir.path)
  project = Project.open(fixture.projectPath)
  mixed = fixture.imageIds.find((id) => id !== fixture.errorImageId)!
  const misclassified = (gtClass: number, predClass: number) => ({
    imageId: mixed, modelId: fixture.modelId, source: 'gt-and-predicted' as const, gtClass, predClass, kind: 'misclassified' as const,
    area: 4, bbox: [0, 0, 2, 2] as [number, number, number, number], mask: new Uint8Array([1, 1, 1, 1]), confidence: 0.5
  })
  project.segments.insertMany([misclassified(STREET_CLASS.car, STREET_CLASS.building), misclassified(STREET_CLASS.person, STREET_CLASS.rider)])
})
afterAll(() => {
  project?.close()
  dir.cleanup()
})

const page = (error?: { gt?: number; pred?: number }) =>
  listImages(project, { ...ImageFilterSchema.parse(error ? { error } : {}), sort: 'id', descending: false, offset: 0, limit: 100 })
const errorsOf = (p: ReturnType<typeof page>, id: number) => p.items.find((i) => i.id === id)?.errors

describe('error filter with one side "any"', () => {
  it('filters by the ground-truth class alone, by the predicted class alone, or by both', () => {
    expect(page({ gt: STREET_CLASS.person }).items.map((i) => i.id).sort()).toEqual([fixture.errorImageId, mixed].sort())
    expect(page({ gt: STREET_CLASS.car }).items.map((i) => i.id)).toEqual([mixed])
    expect(page({ pred: STREET_CLASS.building }).items.map((i) => i.id)).toEqual([mixed])
    expect(page({ pred: STREET_CLASS.rider }).total).toBe(2)
    expect(page({ gt: STREET_CLASS.rider }).total).toBe(0)
    expect(page({ gt: STREET_CLASS.car, pred: STREET_CLASS.rider }).total).toBe(0)
  })

  it('counts in the ×N badge only the misclassified segments of the filtered kind', () => {
    const all = errorsOf(page(), mixed)!
    expect(all).toBeGreaterThanOrEqual(2)
    expect(errorsOf(page({ gt: STREET_CLASS.car }), mixed)).toBe(1)
    expect(errorsOf(page({ pred: STREET_CLASS.building }), mixed)).toBe(1)
    expect(errorsOf(page({ gt: STREET_CLASS.person, pred: STREET_CLASS.rider }), mixed)).toBe(all - 1)
    // The fixture's first image: all its errors are persons predicted as riders.
    expect(errorsOf(page({ gt: STREET_CLASS.person }), fixture.errorImageId)).toBe(errorsOf(page(), fixture.errorImageId))
  })

  it('refuses an error filter with both sides "any" (that is no filter; the URL leaves it out)', () => {
    expect(ImageFilterSchema.safeParse({ error: {} }).success).toBe(false)
    expect(ImageFilterSchema.safeParse({ error: { gt: 1, pred: 2, extra: 3 } }).success).toBe(false)
  })
})
