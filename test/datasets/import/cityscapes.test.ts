import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CITYSCAPES_CLASSES, ImportReportSchema, type ImportReport } from '@common/datasets'
import { importDataset, loadImage, loadInstanceMap, loadLabelMap } from '@main/datasets/import'
import { extractImageSegments } from '@main/datasets/segments'
import { Project } from '@main/store/project'
import { tempDir } from '../../helpers/tempdir'
import { labelMap, writeGray16, writeGray8, writeRgb, writeFileEnsured } from './fixtures'

const W = 64
const H = 32
const dir = tempDir()
const root = join(dir.path, 'cityscapes')
const img = (split: string, city: string, name: string) => join(root, 'leftImg8bit', split, city, `${name}_leftImg8bit.png`)
const lbl = (split: string, city: string, name: string) => join(root, 'gtFine', split, city, `${name}_gtFine_labelIds.png`)
const inst = (split: string, city: string, name: string) => join(root, 'gtFine', split, city, `${name}_gtFine_instanceIds.png`)

// Good pair 1: road (7) on the left, a car (26) on the right, a person (24) column, an unlabeled (0) top row.
const good1Labels = labelMap(W, H, (x, y) => (y === 0 ? 0 : x === 20 ? 24 : x < 32 ? 7 : 26))
const good1Instances = labelMap(W, H, (x, y) => (y === 0 ? 0 : x === 20 ? 24001 : x < 32 ? 7 : 26003))
let good1Pixels: Uint8Array

let project: Project
let report: ImportReport
const thumbs = join(dir.path, 'thumbs')

beforeAll(async () => {
  good1Pixels = await writeRgb(img('train', 'aachen', 'aachen_000000_000019'), W, H, 1)
  await writeGray8(lbl('train', 'aachen', 'aachen_000000_000019'), good1Labels, W, H)
  await writeGray16(inst('train', 'aachen', 'aachen_000000_000019'), good1Instances, W, H)

  // Good pair 2, another split and city: building (11) above sky (23), no instance map.
  await writeRgb(img('val', 'frankfurt', 'frankfurt_000000_000294'), W, H, 2)
  await writeGray8(lbl('val', 'frankfurt', 'frankfurt_000000_000294'), labelMap(W, H, (_x, y) => (y < 16 ? 23 : 11)), W, H)

  // Corrupt image: a valid PNG cut in half.
  await writeRgb(img('train', 'aachen', 'aachen_000001_000019'), W, H, 3)
  const whole = readFileSync(img('train', 'aachen', 'aachen_000001_000019'))
  writeFileSync(img('train', 'aachen', 'aachen_000001_000019'), whole.subarray(0, whole.length >> 1))
  await writeGray8(lbl('train', 'aachen', 'aachen_000001_000019'), labelMap(W, H, () => 7), W, H)

  // Label of the wrong size.
  await writeRgb(img('train', 'aachen', 'aachen_000002_000019'), W, H, 4)
  await writeGray8(lbl('train', 'aachen', 'aachen_000002_000019'), labelMap(32, 32, () => 7), 32, 32)

  // Image without a label.
  await writeRgb(img('train', 'bochum', 'bochum_000000_000313'), W, H, 5)

  // Label with an id no Cityscapes label has (ids stop at 33).
  await writeRgb(img('train', 'bochum', 'bochum_000000_000600'), W, H, 6)
  await writeGray8(lbl('train', 'bochum', 'bochum_000000_000600'), labelMap(W, H, (x) => (x === 3 ? 200 : 8)), W, H)

  // Label whose file is garbage behind a PNG signature.
  await writeRgb(img('val', 'frankfurt', 'frankfurt_000000_001016'), W, H, 7)
  writeFileEnsured(lbl('val', 'frankfurt', 'frankfurt_000000_001016'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]))

  // Label without its image.
  await writeGray8(lbl('val', 'frankfurt', 'frankfurt_000000_002000'), labelMap(W, H, () => 7), W, H)

  project = Project.create(dir.file('p.ctxlens'))
  report = await importDataset(project, { format: 'auto', root, thumbnailDir: thumbs, thumbnailSize: 16 })
})

afterAll(() => {
  project?.close()
  dir.cleanup()
})

describe('Cityscapes import', () => {
  it('imports the good pairs and reports each broken file by name and kind', () => {
    expect(report.format).toBe('cityscapes')
    expect(report.imported).toBe(2)
    expect(report.bySplit).toEqual({ train: 1, val: 1 })
    expect(report.errors.IMAGE_UNREADABLE).toEqual({
      count: 2,
      files: expect.arrayContaining(['leftImg8bit/train/aachen/aachen_000001_000019_leftImg8bit.png', 'gtFine/val/frankfurt/frankfurt_000000_001016_gtFine_labelIds.png'])
    })
    expect(report.errors.LABEL_SIZE_MISMATCH).toEqual({ count: 1, files: ['gtFine/train/aachen/aachen_000002_000019_gtFine_labelIds.png'] })
    expect(report.errors.LABEL_MISSING).toEqual({ count: 1, files: ['leftImg8bit/train/bochum/bochum_000000_000313_leftImg8bit.png'] })
    expect(report.errors.UNKNOWN_CLASS_ID).toEqual({ count: 1, files: ['gtFine/train/bochum/bochum_000000_000600_gtFine_labelIds.png'] })
    expect(report.errors.IMAGE_MISSING).toEqual({ count: 1, files: ['gtFine/val/frankfurt/frankfurt_000000_002000_gtFine_labelIds.png'] })
    const unknown = report.issues.find((i) => i.kind === 'UNKNOWN_CLASS_ID')!
    expect(unknown.details).toMatchObject({ ids: [200], pixels: H })
    const mismatch = report.issues.find((i) => i.kind === 'LABEL_SIZE_MISMATCH')!
    expect(mismatch.message).toMatch(/32×32.*64×32/)
    // 4 broken pairs, an image without label and a label without image.
    expect(report.skipped).toBe(6)
    // The report is plain data in the shape the API contract can declare.
    expect(ImportReportSchema.parse(JSON.parse(JSON.stringify(report)))).toEqual(report)
  })

  it('stores one dataset with the 19 train classes, relative paths and content hashes', () => {
    const [dataset] = project.datasets.list()
    expect(project.datasets.list()).toHaveLength(1)
    expect(dataset).toMatchObject({ format: 'cityscapes', imageCount: 2, splits: { train: 1, val: 1 } })
    const classSet = project.classSets.get(dataset.classSetId)!
    expect(classSet.classes).toHaveLength(19)
    expect(classSet.classes.map((c) => c.name)).toContain('traffic light')
    expect(classSet.classes.find((c) => c.id === 12)).toEqual({ id: 12, name: 'rider', color: [255, 0, 0] })
    expect(classSet.ignoreIds).toEqual([255])
    expect(classSet.classes).toEqual(CITYSCAPES_CLASSES)
    const images = project.datasets.images(dataset.id)
    const first = images.find((i) => i.split === 'train')!
    expect(first).toMatchObject({
      path: 'leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png',
      labelPath: 'gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png',
      instancePath: 'gtFine/train/aachen/aachen_000000_000019_gtFine_instanceIds.png',
      width: W,
      height: H,
      meta: { city: 'aachen', name: 'aachen_000000_000019' }
    })
    expect(images.find((i) => i.split === 'val')!.instancePath).toBeNull()
    const hash = createHash('sha256').update(readFileSync(img('train', 'aachen', 'aachen_000000_000019'))).digest('hex')
    expect(first.contentHash).toBe(hash)
  })

  it('caches a thumbnail per image, named by content hash, long side as asked', async () => {
    const image = project.datasets.images(project.datasets.list()[0].id)[0]
    const path = join(thumbs, `${image.contentHash}.webp`)
    expect(existsSync(path)).toBe(true)
    const meta = await sharp(path).metadata()
    expect([meta.width, meta.height]).toEqual([16, 8])
  })

  it('maps label ids to train ids with the official table, 255 for the rest', async () => {
    const image = project.datasets.images(project.datasets.list()[0].id, { split: 'train' })[0]
    const labels = await loadLabelMap(project, image.id)
    expect(labels.data).toBeInstanceOf(Uint16Array)
    const at = (x: number, y: number) => labels.data[y * W + x]
    expect(at(5, 0)).toBe(255) // unlabeled 0
    expect(at(5, 5)).toBe(0) // road 7
    expect(at(20, 5)).toBe(11) // person 24
    expect(at(40, 5)).toBe(13) // car 26
    const val = project.datasets.images(project.datasets.list()[0].id, { split: 'val' })[0]
    const valLabels = await loadLabelMap(project, val.id)
    expect(valLabels.data[3 * W + 3]).toBe(10) // sky 23
    expect(valLabels.data[20 * W + 3]).toBe(2) // building 11
  })

  it('loads the image as RGB bytes exactly as written', async () => {
    const image = project.datasets.images(project.datasets.list()[0].id, { split: 'train' })[0]
    const loaded = await loadImage(project, image.id)
    expect([loaded.width, loaded.height]).toEqual([W, H])
    expect(Buffer.from(loaded.data).equals(Buffer.from(good1Pixels))).toBe(true)
  })

  it('reads instances (id / 1000 = label id) and stores them as GT instance segments', async () => {
    const image = project.datasets.images(project.datasets.list()[0].id, { split: 'train' })[0]
    const instances = (await loadInstanceMap(project, image.id))!
    expect(instances.classOf).toEqual(new Map([[24001, 11], [26003, 13]]))
    expect(instances.ids[5 * W + 5]).toBe(0) // road has no instances
    const result = await extractImageSegments(project, { imageId: image.id, modelId: null, options: { kinds: ['instance'], unscaled: true, minAreaInstances: 1 } })
    expect(result.byKind.instance).toBe(2)
    const segs = project.segments.forImage(image.id)
    const person = segs.find((s) => s.gtClass === 11)!
    const car = segs.find((s) => s.gtClass === 13)!
    // Row 0 is unlabeled (ignored), so the person column is H - 1 tall and the car 32 × (H - 1).
    expect(person).toMatchObject({ kind: 'instance', source: 'gt-instance', modelId: null, area: H - 1, bbox: [20, 1, 1, H - 1] })
    expect(car).toMatchObject({ area: 32 * (H - 1), bbox: [32, 1, 32, H - 1] })
  })
})
