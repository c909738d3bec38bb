import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { importDataset } from '@main/datasets/import'
import { Project } from '@main/store/project'
import { tempDir } from '../../helpers/tempdir'
import { blackGreyPng, labelMap, writeFileEnsured, writeGray8, writeRgb } from './fixtures'

const W = 16
const H = 12
const dir = tempDir()
afterAll(() => dir.cleanup())

describe('an image or label whose header declares too many pixels', () => {
  it('is reported by file name and skipped without being decoded; the rest imports', async () => {
    const root = join(dir.path, 'bombs')
    writeFileEnsured(join(root, 'classes.json'), JSON.stringify({ classes: [{ id: 0, name: 'ground', color: [0, 0, 0] }], ignoreIds: [] }))
    await writeRgb(join(root, 'images', 'good.png'), W, H, 1)
    await writeGray8(join(root, 'labels', 'good.png'), labelMap(W, H, () => 0), W, H)
    // The adversarial pass's label: a 400 KB PNG that inflates to 400 MB (1.7 GB and 9 s to decode).
    await writeRgb(join(root, 'images', 'huge-label.png'), W, H, 2)
    writeFileEnsured(join(root, 'labels', 'huge-label.png'), blackGreyPng(20000, 20000))
    // An image within libvips' own limit (268 MP) but over ours: libvips would have decoded all 100 MP of it.
    writeFileEnsured(join(root, 'images', 'huge-image.png'), blackGreyPng(10000, 10000))
    await writeGray8(join(root, 'labels', 'huge-image.png'), labelMap(W, H, () => 0), W, H)

    const project = Project.create(dir.file('bombs.ctxlens'))
    const report = await importDataset(project, { root })
    expect(report.imported).toBe(1)
    expect(report.skipped).toBe(2)
    expect(report.errors.IMAGE_UNREADABLE.files.sort()).toEqual(['images/huge-image.png', 'labels/huge-label.png'])
    const label = report.issues.find((i) => i.file === 'labels/huge-label.png')!
    expect(label.message).toMatch(/^cannot decode label: its header declares 20000×20000 pixels \(400\.0 megapixels\), over the limit of 67\.1 megapixels/)
    expect(label.details).toEqual({ width: 20000, height: 20000, maxPixels: 8192 * 8192 })
    const image = report.issues.find((i) => i.file === 'images/huge-image.png')!
    expect(image.message).toMatch(/^cannot decode image: its header declares 10000×10000 pixels/)
    // Nothing else is said about these pairs: the size mismatch would only be found by decoding.
    expect(report.issues).toHaveLength(2)
    expect(report.durationMs).toBeLessThan(5000)
    expect(project.datasets.images(report.dataset.id).map((i) => i.path)).toEqual(['images/good.png'])
    project.close()
  })
})
