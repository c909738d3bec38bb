import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importDataset, loadDisplayImage, loadImage } from '@main/datasets/import'
import { Project } from '@main/store/project'
import { tempDir } from '../../helpers/tempdir'
import { labelMap, rgbPattern, writeFileEnsured, writeGray8, writeRgb } from './fixtures'

/**
 * The image view's image: the dataset's own file when a browser decodes it to the pixels the engine reads, else a
 * PNG of those pixels. Either way what the user sees is what the model is given.
 */
const W = 20
const H = 10
const dir = tempDir()
let project: Project
const ids = new Map<string, number>()
afterAll(() => {
  project?.close()
  dir.cleanup()
})

beforeAll(async () => {
  const root = join(dir.path, 'set')
  writeFileEnsured(join(root, 'classes.json'), JSON.stringify({ classes: [{ id: 0, name: 'ground', color: [1, 2, 3] }], ignoreIds: [] }))
  await writeRgb(join(root, 'images', 'plain.png'), W, H, 1)
  await writeRgb(join(root, 'images', 'photo.jpg'), W, H, 2, 'jpeg')
  const rgba = Buffer.alloc(W * H * 4, 200)
  await sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png().toFile(join(root, 'images', 'alpha.png'))
  // Stored 10 wide and 20 high with "rotate 90°" in its EXIF: a browser would show it 20×10, the engine reads it as stored.
  await sharp(Buffer.from(rgbPattern(H, W, 3)), { raw: { width: H, height: W, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toFile(join(root, 'images', 'rotated.jpg'))
  for (const name of ['plain', 'photo', 'alpha']) await writeGray8(join(root, 'labels', `${name}.png`), labelMap(W, H, () => 0), W, H)
  await writeGray8(join(root, 'labels', 'rotated.png'), labelMap(H, W, () => 0), H, W)
  project = Project.create(dir.file('p.ctxlens'))
  const report = await importDataset(project, { root })
  expect(report.imported).toBe(4)
  for (const image of project.datasets.images(report.dataset.id)) ids.set(image.path.replace(/^images\/|\.\w+$/g, ''), image.id)
})

const decoded = async (bytes: Buffer) => new Uint8Array(await sharp(bytes).removeAlpha().raw().toBuffer())

describe('the image view\'s image', () => {
  it('is the file itself for 8-bit RGB PNG and JPEG without rotation or colour profile', async () => {
    for (const [name, file, mime] of [['plain', 'plain.png', 'image/png'], ['photo', 'photo.jpg', 'image/jpeg']] as const) {
      const shown = await loadDisplayImage(project, ids.get(name)!)
      expect(shown).toMatchObject({ mime, original: true })
      expect(shown.bytes.equals(readFileSync(join(dir.path, 'set', 'images', file)))).toBe(true)
      expect(await decoded(shown.bytes)).toEqual((await loadImage(project, ids.get(name)!)).data)
    }
  })

  it('is a PNG of the engine\'s pixels when the browser would show the file otherwise (alpha, EXIF rotation)', async () => {
    for (const name of ['alpha', 'rotated']) {
      const shown = await loadDisplayImage(project, ids.get(name)!)
      expect(shown).toMatchObject({ mime: 'image/png', original: false })
      const engine = await loadImage(project, ids.get(name)!)
      const meta = await sharp(shown.bytes).metadata()
      expect([meta.width, meta.height, meta.channels, meta.orientation ?? 1]).toEqual([engine.width, engine.height, 3, 1])
      expect(await decoded(shown.bytes)).toEqual(engine.data)
    }
  })
})
