import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { importDataset } from '@main/datasets/import'
import type { InstanceMap } from '@main/datasets/import'
import {
  connectedComponents,
  errorRegions,
  extractImageSegments,
  gtInstanceSegments,
  predictedSegments,
  scaledMinArea,
  segmentMask,
  segmentsForImage,
  type ExtractedSegment
} from '@main/datasets/segments'
import { Project } from '@main/store/project'
import { tempDir } from '../helpers/tempdir'
import { labelMap, writeFileEnsured, writeGray8, writeRgb } from './import/fixtures'

/** A label map from rows of characters: '.' = 0, digits = that class, 'x' = 255 (ignored). */
function draw(rows: string[]): { map: Uint16Array; width: number; height: number } {
  const width = rows[0].length
  const map = new Uint16Array(width * rows.length)
  rows.forEach((row, y) => [...row].forEach((ch, x) => (map[y * width + x] = ch === '.' ? 0 : ch === 'x' ? 255 : Number(ch))))
  return { map, width, height: rows.length }
}

function maskPixels(s: ExtractedSegment, width: number, height: number): [number, number][] {
  const out: [number, number][] = []
  segmentMask(s, width, height).forEach((v, i) => v && out.push([i % width, Math.floor(i / width)]))
  return out
}

const summary = (segs: ExtractedSegment[]) =>
  segs.map((s) => ({ kind: s.kind, gt: s.gtClass, pred: s.predClass, area: s.area, bbox: s.bbox })).sort((a, b) => a.bbox[1] - b.bbox[1] || a.bbox[0] - b.bbox[0])

describe('connected components', () => {
  it('splits two blobs of one class into two segments, with area, bbox and mask', () => {
    const { map, width, height } = draw([
      '11....', //
      '11..1.',
      '....11',
      '......'
    ])
    const segs = predictedSegments(map, width, height).filter((s) => s.predClass === 1)
    expect(summary(segs)).toEqual([
      { kind: 'predicted', gt: null, pred: 1, area: 4, bbox: [0, 0, 2, 2] },
      { kind: 'predicted', gt: null, pred: 1, area: 3, bbox: [4, 1, 2, 2] }
    ])
    expect(maskPixels(segs.find((s) => s.area === 3)!, width, height)).toEqual([
      [4, 1],
      [4, 2],
      [5, 2]
    ])
    // The background around them is one connected segment too.
    expect(predictedSegments(map, width, height).filter((s) => s.predClass === 0).map((s) => s.area)).toEqual([24 - 7])
  })

  it('joins pixels touching only at a corner with 8-connectivity, not with 4-connectivity (the default)', () => {
    const { map, width, height } = draw([
      '1..', //
      '.1.',
      '..1'
    ])
    const four = predictedSegments(map, width, height)
    expect(four.filter((s) => s.predClass === 1).map((s) => s.area)).toEqual([1, 1, 1])
    // The background's two triangles touch only at corners, across the diagonal.
    expect(four.filter((s) => s.predClass === 0).map((s) => s.area)).toEqual([3, 3])
    const eight = predictedSegments(map, width, height, { connectivity: 8 })
    expect(summary(eight.filter((s) => s.predClass === 1))).toEqual([{ kind: 'predicted', gt: null, pred: 1, area: 3, bbox: [0, 0, 3, 3] }])
    expect(eight.filter((s) => s.predClass === 0).map((s) => s.area)).toEqual([6])
  })

  it('never puts ignored pixels (255 or extra ignore ids) into a segment, even when they bridge two blobs', () => {
    const { map, width, height } = draw([
      '11x11', //
      '11x11'
    ])
    const segs = predictedSegments(map, width, height)
    expect(segs.map((s) => s.area)).toEqual([4, 4])
    for (const s of segs) expect(maskPixels(s, width, height).some(([x]) => x === 2)).toBe(false)
    expect(predictedSegments(map, width, height, { ignoreIds: [1] })).toEqual([])
  })

  it('labels large segments without recursion', () => {
    const w = 1024
    const h = 512
    const labeling = connectedComponents(new Int32Array(w * h).fill(3), w, h, 4)
    expect(labeling.components).toEqual([{ key: 3, area: w * h, bbox: [0, 0, w, h] }])
  })
})

describe('correct and misclassified regions (Table 1 requests)', () => {
  // GT: person (1) left, rider (2) right, bottom row ignored.
  const gt = draw([
    '11112222', //
    '11112222',
    '11112222',
    '11112222',
    '11112222',
    'xxxxxxxx'
  ])
  // Prediction: mostly person; rider only top-right; class 3 in two places inside the person.
  const pred = draw([
    '11131122', //
    '11111122',
    '11111111',
    '33111111',
    '33111111',
    '33111111'
  ])

  it('makes one segment per connected component of GT(g) ∩ prediction(p), with known areas', () => {
    const segs = errorRegions(gt.map, pred.map, gt.width, gt.height)
    expect(summary(segs)).toEqual([
      { kind: 'correct', gt: 1, pred: 1, area: 15, bbox: [0, 0, 4, 5] },
      { kind: 'misclassified', gt: 1, pred: 3, area: 1, bbox: [3, 0, 1, 1] },
      { kind: 'misclassified', gt: 2, pred: 1, area: 16, bbox: [4, 0, 4, 5] },
      { kind: 'correct', gt: 2, pred: 2, area: 4, bbox: [6, 0, 2, 2] },
      { kind: 'misclassified', gt: 1, pred: 3, area: 4, bbox: [0, 3, 2, 2] }
    ])
    // Every non-ignored pixel is in exactly one region; the ignored row in none.
    const cover = new Uint8Array(gt.map.length)
    for (const s of segs) segmentMask(s, gt.width, gt.height).forEach((v, i) => (cover[i] += v))
    expect(Array.from(cover)).toEqual(Array.from(gt.map, (g) => (g === 255 ? 0 : 1)))
  })

  it('drops regions under the minimum area', () => {
    const segs = errorRegions(gt.map, pred.map, gt.width, gt.height, { minArea: 4 })
    expect(segs.map((s) => s.area).sort((a, b) => a - b)).toEqual([4, 4, 15, 16])
  })
})

describe('GT instance segments', () => {
  it('keeps an instance split by an occluder as one segment and leaves ignored pixels out', () => {
    const ids = draw([
      '11.11', //
      '11.11',
      '.....',
      '22xx.'
    ])
    const labels = draw([
      '33.33', //
      '33.33',
      '.....',
      '44xx.'
    ])
    // Instance 2's last pixels are ignored in the label map: it has area 2, not 4.
    const instanceIds = Uint32Array.from(ids.map, (v) => (v === 255 ? 2 : v))
    const instances: InstanceMap = { width: 5, height: 4, ids: instanceIds, classOf: new Map([[1, 3], [2, 4]]) }
    const segs = gtInstanceSegments(instances, labels.map)
    expect(summary(segs)).toEqual([
      { kind: 'instance', gt: 3, pred: null, area: 8, bbox: [0, 0, 5, 2] },
      { kind: 'instance', gt: 4, pred: null, area: 2, bbox: [0, 3, 2, 1] }
    ])
    expect(maskPixels(segs[1], 5, 4)).toEqual([
      [0, 3],
      [1, 3]
    ])
    expect(maskPixels(segs[0], 5, 4).map(([x]) => x)).toEqual([0, 1, 3, 4, 0, 1, 3, 4])
    expect(gtInstanceSegments(instances, labels.map, { minArea: 3 })).toHaveLength(1)
  })
})

describe('minimum areas scaled from Cityscapes resolution', () => {
  it('scales 625 px (Table 1) and 10k px (Fig. 6) with the pixel count', () => {
    expect(scaledMinArea('table1', 2048, 1024)).toBe(625)
    expect(scaledMinArea('fig6', 2048, 1024)).toBe(10_000)
    expect(scaledMinArea('table1', 1024, 512)).toBe(156) // 625 / 4 = 156.25
    expect(scaledMinArea('fig6', 64, 64)).toBe(20) // 10000 · 4096 / 2097152 = 19.5
    expect(scaledMinArea('table1', 64, 32)).toBe(1) // never below one pixel
    expect(scaledMinArea(2000, 1024, 512)).toBe(500)
    expect(scaledMinArea('table1', 64, 64, true)).toBe(625)
  })

  it('applies the scaled thresholds per kind when extracting an image', () => {
    // At 64×64 the Fig.-6 threshold is 20 px; the regions' threshold of 2500 px at Cityscapes scale is 4.9 → 5 px.
    const w = 64
    const h = 64
    const pred = new Uint16Array(w * h)
    for (let y = 0; y < 4; y++) for (let x = 0; x < 5; x++) pred[y * w + x] = 1 // 20 px: kept
    for (let x = 10; x < 29; x++) pred[10 * w + x] = 2 // 19 px: dropped
    const gt = new Uint16Array(w * h)
    gt.set(pred)
    for (let x = 40; x < 44; x++) pred[30 * w + x] = 3 // 4 px misclassified: under 5
    for (let x = 40; x < 45; x++) pred[40 * w + x] = 4 // 5 px misclassified: kept
    const segs = segmentsForImage({ width: w, height: h, gt, pred }, { minAreaRegions: 2500, kinds: ['predicted', 'misclassified'] })
    expect(segs.filter((s) => s.kind === 'predicted' && s.predClass !== 0).map((s) => [s.predClass, s.area])).toEqual([[1, 20]])
    expect(segs.filter((s) => s.kind === 'misclassified').map((s) => [s.predClass, s.area])).toEqual([[4, 5]])
  })
})

describe('storing segments', () => {
  const dir = tempDir()
  afterAll(() => dir.cleanup())

  it('extracts an image’s segments from its label map and a stored prediction, once', async () => {
    const root = join(dir.path, 'folder')
    const W = 8
    const H = 6
    writeFileEnsured(
      join(root, 'classes.json'),
      JSON.stringify({ classes: [0, 1, 2, 3].map((id) => ({ id, name: `c${id}`, color: [id, id, id] })), ignoreIds: [] })
    )
    await writeRgb(join(root, 'images', 'a.png'), W, H, 1)
    // The GT of the Table-1 example above, with the ignored row as class 0.
    await writeGray8(join(root, 'labels', 'a.png'), labelMap(W, H, (x, y) => (y === 5 ? 0 : x < 4 ? 1 : 2)), W, H)
    const project = Project.create(dir.file('seg.ctxlens'))
    const { dataset } = await importDataset(project, { root })
    const image = project.datasets.images(dataset.id)[0]
    const model = project.models.register({ name: 'm', dir: '/m', architecture: 'unet', classSetId: dataset.classSetId, contentHash: 'h', config: {} })
    const labels = labelMap(W, H, (x, y) => (y === 5 ? 0 : x >= 6 && y < 2 ? 2 : 1))
    const confidence = Float32Array.from(labels, (_v, i) => (i % W < 4 ? 0.5 : 1))
    project.predictions.upsert({ modelId: model.id, imageId: image.id, labelMap: Uint16Array.from(labels), confidence })

    const options = { unscaled: true, minAreaRegions: 1, minAreaInstances: 1, kinds: ['predicted', 'correct', 'misclassified'] as const }
    const first = await extractImageSegments(project, { imageId: image.id, modelId: model.id, options: { ...options, kinds: [...options.kinds] } })
    expect(first.byKind).toEqual({ predicted: 3, instance: 0, correct: 3, misclassified: 1 })
    const rows = project.segments.forImage(image.id)
    expect(rows).toHaveLength(7)
    const rider = rows.find((r) => r.kind === 'misclassified')!
    expect(rider).toMatchObject({ source: 'gt-and-predicted', modelId: model.id, gtClass: 2, predClass: 1, area: 16, bbox: [4, 0, 4, 5] })
    expect(rider.confidence).toBeCloseTo(1)
    const mask = project.segments.mask(rider.id)!
    expect(mask.reduce((a, b) => a + b, 0)).toBe(16)
    expect(mask[0 * W + 6]).toBe(0) // that pixel was predicted rider: correct, not misclassified
    const personCorrect = rows.find((r) => r.kind === 'correct' && r.gtClass === 1)!
    expect(personCorrect).toMatchObject({ area: 20, confidence: 0.5 })

    const again = await extractImageSegments(project, { imageId: image.id, modelId: model.id, options: { ...options, kinds: [...options.kinds] } })
    expect(again.ids).toEqual([])
    expect(again.alreadyStored.sort()).toEqual(['correct', 'misclassified', 'predicted'])
    expect(project.segments.forImage(image.id)).toHaveLength(7)
    project.close()
  })
})
