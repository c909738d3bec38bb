import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImportReport } from '@common/datasets'
import { importDataset, loadInstanceMap, loadLabelMap } from '@main/datasets/import'
import { Project } from '@main/store/project'
import { tempDir } from '../../helpers/tempdir'
import { encodePalettePng, labelMap, vocPalette, writeFileEnsured, writeRgb } from './fixtures'

const W = 32
const H = 24
const dir = tempDir()
const root = join(dir.path, 'VOCdevkit', 'VOC2012')

// A person (15) box with a void (255) border on background, and an aeroplane (1) strip at the bottom.
const personLabel = labelMap(W, H, (x, y) => {
  if (y >= 20) return 1
  if (x >= 8 && x < 16 && y >= 4 && y < 16) return x === 8 || x === 15 || y === 4 || y === 15 ? 255 : 15
  return 0
})
// Two objects: 1 = the person box, 2 = the aeroplane strip.
const personObjects = labelMap(W, H, (x, y) => (y >= 20 ? 2 : personLabel[y * W + x] === 15 ? 1 : personLabel[y * W + x] === 255 ? 255 : 0))

let project: Project
let report: ImportReport

beforeAll(async () => {
  const palette = vocPalette()
  await writeRgb(join(root, 'JPEGImages', '2007_000032.jpg'), W, H, 1, 'jpeg')
  writeFileEnsured(join(root, 'SegmentationClass', '2007_000032.png'), encodePalettePng(personLabel, W, H, palette))
  writeFileEnsured(join(root, 'SegmentationObject', '2007_000032.png'), encodePalettePng(personObjects, W, H, palette))
  await writeRgb(join(root, 'JPEGImages', '2007_000039.jpg'), W, H, 2, 'jpeg')
  writeFileEnsured(join(root, 'SegmentationClass', '2007_000039.png'), encodePalettePng(labelMap(W, H, (x) => (x < 16 ? 20 : 0)), W, H, palette))
  // In val.txt, with a palette index (30) that is no VOC class.
  await writeRgb(join(root, 'JPEGImages', '2007_000063.jpg'), W, H, 3, 'jpeg')
  writeFileEnsured(join(root, 'SegmentationClass', '2007_000063.png'), encodePalettePng(labelMap(W, H, (x, y) => (x === y ? 30 : 0)), W, H, palette))
  // A detection-only image: not in the segmentation lists, so not imported and not an error.
  await writeRgb(join(root, 'JPEGImages', '2008_000001.jpg'), W, H, 4, 'jpeg')
  writeFileEnsured(join(root, 'ImageSets', 'Segmentation', 'train.txt'), '2007_000032\n2007_000039\n')
  writeFileEnsured(join(root, 'ImageSets', 'Segmentation', 'val.txt'), '2007_000063\n')
  writeFileEnsured(join(root, 'ImageSets', 'Segmentation', 'trainval.txt'), '2007_000032\n2007_000039\n2007_000063\n')
  project = Project.create(dir.file('voc.ctxlens'))
  // Auto-detection from the devkit folder above the VOC2012 root.
  report = await importDataset(project, { root: join(dir.path, 'VOCdevkit') })
})

afterAll(() => {
  project?.close()
  dir.cleanup()
})

describe('Pascal VOC import', () => {
  it('takes images and splits from ImageSets/Segmentation and reports the unknown palette index', () => {
    expect(report.format).toBe('voc')
    expect(report.imported).toBe(2)
    expect(report.bySplit).toEqual({ train: 2 })
    expect(report.errors.UNKNOWN_CLASS_ID).toEqual({ count: 1, files: ['SegmentationClass/2007_000063.png'] })
    expect(report.issues).toHaveLength(1)
    const dataset = project.datasets.list()[0]
    expect(dataset.root).toBe(root)
    const classSet = project.classSets.get(dataset.classSetId)!
    expect(classSet.classes).toHaveLength(21)
    expect(classSet.classes[15]).toEqual({ id: 15, name: 'person', color: [192, 128, 128] })
  })

  it('reads palette labels as indices, not colours, with 255 kept as void', async () => {
    const image = project.datasets.images(project.datasets.list()[0].id).find((i) => i.path === 'JPEGImages/2007_000032.jpg')!
    // What an RGB decoder sees at a person pixel: the palette colour, which is not the class id.
    const rgb = await sharp(join(root, image.labelPath!)).removeAlpha().raw().toBuffer()
    const p = 10 * W + 10
    expect([rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2]]).toEqual([192, 128, 128])
    const labels = await loadLabelMap(project, image.id)
    expect(Array.from(labels.data)).toEqual(personLabel)
    expect(labels.data[4 * W + 10]).toBe(255)
  })

  it('records SegmentationObject as the instance map, each object taking its class from the class map', async () => {
    const image = project.datasets.images(project.datasets.list()[0].id).find((i) => i.path === 'JPEGImages/2007_000032.jpg')!
    expect(image.instancePath).toBe('SegmentationObject/2007_000032.png')
    const instances = (await loadInstanceMap(project, image.id))!
    expect(instances.classOf).toEqual(new Map([[1, 15], [2, 1]]))
    expect(instances.ids[4 * W + 10]).toBe(0) // void border belongs to no object
  })
})
