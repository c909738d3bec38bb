import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/tempdir'
import { rgbFrom, saveChannelModel, writeFolderDataset } from './fixtures/data'
import { services } from './helpers'

/**
 * Predictions over a tiny dataset with a model whose answer is known (class = the pixel's colour channel), and
 * the confusion matrix and IoU against values computed by hand from the ground truth written here.
 */
const dir = tempDir()
const { ctx, call } = services()
const W = 4
const H = 2
let datasetId = 0
let modelId = 0

beforeAll(async () => {
  const root = join(dir.path, 'data')
  await writeFolderDataset(root, W, H, [
    // a: colours R R G G / B B R G → prediction 0 0 1 1 / 2 2 0 1
    { name: 'a', rgb: rgbFrom('RRGGBBRG'), label: Uint8Array.from([0, 0, 1, 2, 2, 2, 255, 1]) },
    // b: all red → prediction 0 everywhere
    { name: 'b', rgb: rgbFrom('RRRRRRRR'), label: Uint8Array.from([0, 0, 0, 0, 0, 0, 1, 1]) }
  ])
  await saveChannelModel(join(dir.path, 'model'), H, W)
  await call('project:create', { path: join(dir.path, 'p.ctxlens') })
  datasetId = (await call('datasets:import', { root, format: 'folder' })).dataset.id
  modelId = (await call('models:add', { dir: join(dir.path, 'model') })).id
})
afterAll(() => {
  ctx.dispose()
  dir.cleanup()
})

describe('predict a dataset', () => {
  it('stores label maps and confidences, and gives the hand-computed confusion matrix and IoU', async () => {
    const report = await call('audit:predict', { datasetId, modelId, batchSize: 1 })
    expect(report.failed).toEqual([])
    expect(report.predicted).toBe(2)
    // Rows GT, columns prediction. a: (0,0)×2 (1,1)×2 (2,1)×1 (2,2)×2, one ignored; b: (0,0)×6 (1,0)×2.
    expect(report.classIds).toEqual([0, 1, 2])
    expect(report.matrix).toEqual([
      [8, 0, 0],
      [2, 2, 0],
      [0, 1, 2]
    ])
    const iou = report.perClass.map((c) => c.iou!)
    expect(iou[0]).toBeCloseTo(8 / 10, 12)
    expect(iou[1]).toBeCloseTo(2 / 5, 12)
    expect(iou[2]).toBeCloseTo(2 / 3, 12)
    expect(report.meanIoU).toBeCloseTo((0.8 + 0.4 + 2 / 3) / 3, 12)
    expect(report.pixelAccuracy).toBeCloseTo(12 / 15, 12)

    const project = ctx.requireProject()
    const images = project.datasets.images(datasetId)
    const a = project.predictions.get(modelId, images.find((i) => i.path.includes('a.png'))!.id)!
    expect(Array.from(a.labelMap)).toEqual([0, 0, 1, 1, 2, 2, 0, 1])
    const p = Math.exp(10) / (Math.exp(10) + 2)
    for (const c of a.confidence) expect(c).toBeCloseTo(p, 5)

    // Segments were extracted from the prediction: in a, GT 2 predicted 1 at pixel (3,0) is one misclassified region.
    expect(report.segments.misclassified).toBeGreaterThan(0)
    const mis = project.segments.forImage(images.find((i) => i.path.includes('a.png'))!.id).filter((s) => s.kind === 'misclassified')
    expect(mis.map((s) => [s.gtClass, s.predClass, s.area])).toEqual([[2, 1, 1]])

    // The stored predictions give the same report without running the model again.
    const again = await call('audit:confusion', { datasetId, modelId })
    expect(again.matrix).toEqual(report.matrix)
  })

  it('reports an unreadable label once, and still extracts the segments that need no ground truth', async () => {
    const root = join(dir.path, 'data-broken-label')
    await writeFolderDataset(root, W, H, [
      { name: 'a', rgb: rgbFrom('RRGGBBRG'), label: Uint8Array.from([0, 0, 1, 2, 2, 2, 255, 1]) },
      { name: 'b', rgb: rgbFrom('RRRRRRRR'), label: Uint8Array.from([0, 0, 0, 0, 0, 0, 1, 1]) }
    ])
    const broken = (await call('datasets:import', { root, format: 'folder' })).dataset.id
    writeFileSync(join(root, 'labels', 'b.png'), 'not a png')
    const report = await call('audit:predict', { datasetId: broken, modelId, batchSize: 2 })
    const b = ctx.requireProject().datasets.images(broken).find((i) => i.path.includes('b.png'))!
    expect(report.predicted).toBe(2)
    expect(report.images).toBe(1)
    expect(report.failed).toEqual([expect.objectContaining({ imageId: b.id, code: 'IMAGE_UNREADABLE' })])
    const kinds = new Set(ctx.requireProject().segments.forImage(b.id).map((s) => s.kind))
    expect(kinds).toEqual(new Set(['predicted']))
  })
})
