import { mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { importDataset } from '@main/datasets/import'
import { showName } from '@main/datasets/import/fsutil'
import { Project } from '@main/store/project'
import { tempDir } from '../../helpers/tempdir'
import { labelMap, writeFileEnsured, writeGray8, writeRgb } from './fixtures'

const W = 8
const H = 6
const dir = tempDir()
afterAll(() => dir.cleanup())

/** "café" as Latin-1 wrote it: the é is the lone byte 0xE9, not valid UTF-8. Linux file systems take any bytes. */
const LATIN1_CAFE = Buffer.from([0x63, 0x61, 0x66, 0xe9])
const rawPath = (...parts: (string | Buffer)[]): Buffer => Buffer.concat(parts.flatMap((p, i) => [...(i ? [Buffer.from('/')] : []), Buffer.from(p)]))

describe('file names that are not valid UTF-8', () => {
  it('are shown with each undecodable byte as \\xNN and every real character kept', () => {
    expect(showName(LATIN1_CAFE)).toBe('caf\\xe9')
    expect(showName(Buffer.concat([Buffer.from('ü-'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('.png')]))).toBe('ü-\\xc3(\\xff.png')
    expect(showName(Buffer.from('日本.png'))).toBe('日本.png')
  })

  it('are refused by name at scan time instead of failing later with ENOENT; the rest imports', async () => {
    const root = join(dir.path, 'folder')
    writeFileEnsured(join(root, 'classes.json'), JSON.stringify({ classes: [{ id: 0, name: 'ground', color: [0, 0, 0] }], ignoreIds: [] }))
    await writeRgb(join(root, 'images', 'good.png'), W, H, 1)
    await writeGray8(join(root, 'labels', 'good.png'), labelMap(W, H, () => 0), W, H)
    // A good pair, written under a plain name and then given the Latin-1 one.
    const cafe = Buffer.concat([LATIN1_CAFE, Buffer.from('.png')])
    await writeRgb(join(root, 'images', 'tmp.png'), W, H, 2)
    await writeGray8(join(root, 'labels', 'tmp.png'), labelMap(W, H, () => 0), W, H)
    renameSync(join(root, 'images', 'tmp.png'), rawPath(root, 'images', cafe))
    renameSync(join(root, 'labels', 'tmp.png'), rawPath(root, 'labels', cafe))

    const project = Project.create(dir.file('names.ctxlens'))
    const report = await importDataset(project, { root })
    expect(report.imported).toBe(1)
    expect(report.skipped).toBe(2)
    expect(report.errors.IMAGE_UNREADABLE.files).toEqual(['images/caf\\xe9.png', 'labels/caf\\xe9.png'])
    for (const issue of report.issues) expect(issue.message).toMatch(/^file name is not valid UTF-8 \(bytes shown as \\xNN\); not imported: rename the file$/)
    expect(report.issues).toHaveLength(2)
    expect(project.datasets.images(report.dataset.id).map((i) => i.path)).toEqual(['images/good.png'])
    project.close()
  })

  it('in a folder name skip that folder, named, in Cityscapes and in a split-folder layout', async () => {
    const cs = join(dir.path, 'cs')
    await writeRgb(join(cs, 'leftImg8bit', 'val', 'ulm', 'ulm_000000_000019_leftImg8bit.png'), W, H, 1)
    await writeGray8(join(cs, 'gtFine', 'val', 'ulm', 'ulm_000000_000019_gtFine_labelIds.png'), labelMap(W, H, () => 7), W, H)
    const city = Buffer.from([0x6b, 0xf6, 0x6c, 0x6e]) // "köln" in Latin-1
    mkdirSync(rawPath(cs, 'leftImg8bit', 'val', city), { recursive: true })
    mkdirSync(rawPath(cs, 'gtFine', 'val', city), { recursive: true })
    const project = Project.create(dir.file('cs.ctxlens'))
    const report = await importDataset(project, { root: cs })
    expect(report.imported).toBe(1)
    expect(report.issues.map((i) => [i.file, i.message])).toEqual([
      ['leftImg8bit/val/k\\xf6ln', expect.stringMatching(/^folder name is not valid UTF-8 .*nothing in it was imported/)],
      ['gtFine/val/k\\xf6ln', expect.stringMatching(/^folder name is not valid UTF-8/)]
    ])

    // <split>/images: a folder beside the splits is only reported when it holds images/.
    const tm = join(dir.path, 'tm')
    writeFileEnsured(join(tm, 'classes.json'), JSON.stringify({ classes: [{ id: 0, name: 'ground', color: [0, 0, 0] }], ignoreIds: [] }))
    await writeRgb(join(tm, 'train', 'images', 'a.png'), W, H, 1)
    await writeGray8(join(tm, 'train', 'labels', 'a.png'), labelMap(W, H, () => 0), W, H)
    mkdirSync(rawPath(tm, Buffer.from([0x74, 0xe9, 0x73, 0x74]), 'images'), { recursive: true })
    mkdirSync(rawPath(tm, Buffer.from([0x6e, 0xf8, 0x74, 0x65, 0x73])), { recursive: true })
    const split = await importDataset(project, { root: tm })
    expect(split.imported).toBe(1)
    expect(split.errors.IMAGE_UNREADABLE.files).toEqual(['t\\xe9st'])
    project.close()
  })
})
