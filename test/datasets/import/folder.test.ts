import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isAppError } from '@common/errors'
import { importDataset, loadImage, loadLabelMap } from '@main/datasets/import'
import { Project } from '@main/store/project'
import { countRows } from '../../helpers/sqliteFile'
import { tempDir } from '../../helpers/tempdir'
import { labelMap, writeFileEnsured, writeGray8, writeRgb } from './fixtures'

const W = 16
const H = 12
const dir = tempDir()
afterAll(() => dir.cleanup())

const classes = {
  classes: [
    { id: 0, name: 'ground', color: [10, 20, 30] },
    { id: 1, name: 'tree', color: [0, 255, 0] },
    { id: 5, name: 'sign', color: [255, 255, 0] }
  ],
  ignoreIds: [9]
}

function count(project: Project, table: string): number {
  return countRows(project.path, [table])[table]
}

describe('generic folder import', () => {
  it('pairs images/ and labels/ by base name, reads classes.json and meta/, maps ignore ids to 255', async () => {
    const root = join(dir.path, 'flat')
    writeFileEnsured(join(root, 'classes.json'), JSON.stringify(classes))
    await writeRgb(join(root, 'images', 'a.png'), W, H, 1)
    await writeGray8(join(root, 'labels', 'a.png'), labelMap(W, H, (x, y) => (y === 0 ? 9 : x < 8 ? 1 : 5)), W, H)
    writeFileEnsured(join(root, 'meta', 'a.json'), JSON.stringify({ weather: 'rain', index: 4 }))
    await writeRgb(join(root, 'images', 'b.jpg'), W, H, 2, 'jpeg')
    await writeGray8(join(root, 'labels', 'b.png'), labelMap(W, H, () => 0), W, H)
    await writeRgb(join(root, 'images', 'c.png'), W, H, 3) // no label
    await writeRgb(join(root, 'images', 'd.png'), W, H, 4)
    await writeGray8(join(root, 'labels', 'd.png'), labelMap(W, H, (x) => (x === 0 ? 7 : 0)), W, H) // 7 is no class

    const project = Project.create(dir.file('flat.ctxlens'))
    const report = await importDataset(project, { root, name: 'street bits' })
    expect(report.format).toBe('folder')
    expect(report.imported).toBe(2)
    expect(report.errors.LABEL_MISSING.files).toEqual(['images/c.png'])
    expect(report.errors.UNKNOWN_CLASS_ID.files).toEqual(['labels/d.png'])
    expect(report.issues.find((i) => i.kind === 'UNKNOWN_CLASS_ID')!.details).toMatchObject({ ids: [7], pixels: H })

    const dataset = project.datasets.list()[0]
    expect(dataset).toMatchObject({ name: 'street bits', format: 'folder', splits: { all: 2 } })
    const classSet = project.classSets.get(dataset.classSetId)!
    expect(classSet.classes).toEqual(classes.classes)
    expect(classSet.ignoreIds).toEqual([9])
    const [a, b] = project.datasets.images(dataset.id)
    expect(a).toMatchObject({ path: 'images/a.png', labelPath: 'labels/a.png', meta: { weather: 'rain', index: 4 } })
    expect(b).toMatchObject({ path: 'images/b.jpg', labelPath: 'labels/b.png', meta: {} })
    const labels = await loadLabelMap(project, a.id)
    expect(labels.data[0]).toBe(255) // ignore id 9
    expect(labels.data[3 * W + 2]).toBe(1)
    expect(labels.data[3 * W + 12]).toBe(5)
    project.close()
  })

  it('reads split subfolders images/<split>/ and restricts to the requested splits', async () => {
    const root = join(dir.path, 'splits')
    writeFileEnsured(join(root, 'classes.json'), JSON.stringify(classes.classes)) // the bare-array form
    for (const [split, name] of [
      ['train', 'x1'],
      ['train', 'x2'],
      ['val', 'y1']
    ]) {
      await writeRgb(join(root, 'images', split, `${name}.png`), W, H, name.length)
      await writeGray8(join(root, 'labels', split, `${name}.png`), labelMap(W, H, () => 1), W, H)
    }
    writeFileEnsured(join(root, 'meta', 'val', 'y1.json'), JSON.stringify({ source: 'val meta' }))
    const project = Project.create(dir.file('splits.ctxlens'))
    const all = await importDataset(project, { format: 'folder', root })
    expect(all.bySplit).toEqual({ train: 2, val: 1 })
    expect(project.datasets.images(all.dataset.id, { split: 'val' })[0].meta).toEqual({ source: 'val meta' })
    const onlyVal = await importDataset(project, { format: 'folder', root, splits: ['val'] })
    expect(onlyVal.bySplit).toEqual({ val: 1 })
    // Same classes, same class set: datasets and models agree on what the ids mean.
    expect(onlyVal.classSetId).toBe(all.classSetId)
    expect(count(project, 'class_sets')).toBe(1)
    project.close()
  })

  it('reads the texture-MNIST layout (<split>/images, labels, meta; grey images) as format texture-mnist', async () => {
    const root = join(dir.path, 'tmnist')
    const tmClasses = { classes: Array.from({ length: 11 }, (_, id) => ({ id, name: id === 10 ? 'background' : String(id), color: [id * 20, 0, 0] })), ignoreIds: [] }
    writeFileEnsured(join(root, 'classes.json'), JSON.stringify(tmClasses))
    writeFileEnsured(join(root, 'dataset.json'), JSON.stringify({ format: 'texture-mnist', version: 1 }))
    const grey = labelMap(8, 8, (x, y) => x * 30 + y)
    for (const split of ['train', 'test']) {
      writeFileEnsured(join(root, split, 'classes.json'), JSON.stringify(tmClasses))
      for (const name of ['000000', '000001']) {
        await writeGray8(join(root, split, 'images', `${name}.png`), grey, 8, 8)
        await writeGray8(join(root, split, 'labels', `${name}.png`), labelMap(8, 8, (x) => (x < 4 ? 2 : 10)), 8, 8)
        writeFileEnsured(join(root, split, 'meta', `${name}.json`), JSON.stringify({ index: Number(name), split, digit: 2, isBiased: split === 'train' }))
      }
    }
    const project = Project.create(dir.file('tm.ctxlens'))
    const report = await importDataset(project, { root })
    expect(report.format).toBe('texture-mnist')
    expect(report.bySplit).toEqual({ test: 2, train: 2 })
    const image = project.datasets.images(report.dataset.id, { split: 'train' })[1]
    expect(image).toMatchObject({ path: 'train/images/000001.png', labelPath: 'train/labels/000001.png', meta: { index: 1, split: 'train', digit: 2, isBiased: true } })
    const loaded = await loadImage(project, image.id)
    expect(loaded.data.length).toBe(8 * 8 * 3)
    for (const p of [0, 9, 63]) expect(Array.from(loaded.data.subarray(p * 3, p * 3 + 3))).toEqual([grey[p], grey[p], grey[p]])
    expect(Array.from((await loadLabelMap(project, image.id)).data.subarray(0, 8))).toEqual([2, 2, 2, 2, 10, 10, 10, 10])
    project.close()
  })

  it('refuses a classes.json that is malformed or uses the ignore value 255 as a class, storing nothing', async () => {
    const project = Project.create(dir.file('bad.ctxlens'))
    for (const [name, content] of [
      ['malformed', '{ "classes": [ { "id": "road" } ] }'],
      ['reserved', JSON.stringify({ classes: [{ id: 255, name: 'x', color: [0, 0, 0] }] })]
    ]) {
      const root = join(dir.path, name)
      writeFileEnsured(join(root, 'classes.json'), content)
      await writeRgb(join(root, 'images', 'a.png'), W, H, 1)
      await writeGray8(join(root, 'labels', 'a.png'), labelMap(W, H, () => 0), W, H)
      const err = await importDataset(project, { root, format: 'folder' }).catch((e: unknown) => e)
      expect(isAppError(err, 'DATASET_INVALID')).toBe(true)
    }
    expect(count(project, 'datasets') + count(project, 'images') + count(project, 'class_sets')).toBe(0)
    project.close()
  })
})
