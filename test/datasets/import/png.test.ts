import { readFileSync } from 'node:fs'
import sharp from 'sharp'
import { afterAll, describe, expect, it } from 'vitest'
import { ImageTooLargeError } from '@main/datasets/import/pixelLimit'
import { decodePng, labelPlane, PngDecodeError } from '@main/datasets/import/png'
import { tempDir } from '../../helpers/tempdir'
import { blackGreyPng, declareSize, encodePalettePng, labelMap, vocPalette, writeGray16, writeGray8 } from './fixtures'

const dir = tempDir()
afterAll(() => dir.cleanup())

/** libvips' own RGB decode of a file, to compare palette lookups against. */
async function sharpRgb(buf: Buffer): Promise<Uint8Array> {
  return new Uint8Array(await sharp(buf).removeAlpha().toColourspace('srgb').raw().toBuffer())
}

describe('PNG label decoder', () => {
  it('returns palette indices, which libvips would have expanded to RGB', async () => {
    const w = 13
    const h = 7
    const indices = labelMap(w, h, (x, y) => (x < 5 ? 15 : y > 4 ? 255 : (x * 3 + y) % 21))
    const buf = encodePalettePng(indices, w, h, vocPalette())
    const png = await decodePng(buf)
    expect(png.colorType).toBe(3)
    expect(Array.from(labelPlane(png))).toEqual(indices)
    // The fixture is a real palette PNG: libpng gives the palette colours, not the indices.
    const rgb = await sharpRgb(buf)
    const pal = vocPalette()
    for (let i = 0; i < indices.length; i++) expect([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]]).toEqual(pal[indices[i]])
  })

  it('agrees with libpng on low-bit-depth palettes, adaptive filters and Adam7 interlacing written by libvips', async () => {
    const w = 37
    const h = 19
    const rgb = new Uint8Array(w * h * 3)
    const colours = [
      [200, 10, 10],
      [10, 200, 10],
      [10, 10, 200],
      [240, 240, 240]
    ]
    for (let i = 0; i < w * h; i++) rgb.set(colours[(i * 7 + ((i / w) | 0)) % 4], i * 3)
    for (const progressive of [false, true]) {
      const buf = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
        .png({ palette: true, colours: 4, dither: 0, progressive, adaptiveFiltering: true })
        .toBuffer()
      const png = await decodePng(buf)
      expect(png.colorType).toBe(3)
      expect(png.bitDepth).toBeLessThanOrEqual(4)
      const expected = await sharpRgb(buf)
      const got = new Uint8Array(w * h * 3)
      for (let i = 0; i < w * h; i++) got.set(png.palette!.subarray(png.data[i] * 3, png.data[i] * 3 + 3), i * 3)
      expect(Buffer.from(got).equals(Buffer.from(expected))).toBe(true)
    }
  })

  it('reads 8-bit grey (plain and interlaced) and 16-bit grey values exactly', async () => {
    const w = 21
    const h = 11
    const v8 = labelMap(w, h, (x, y) => (x * 13 + y * 7) % 256)
    for (const interlace of [false, true]) {
      await writeGray8(dir.file(`g8-${interlace}.png`), v8, w, h, { interlace })
      const png = await decodePng(readFileSync(dir.file(`g8-${interlace}.png`)))
      expect(png.colorType).toBe(0)
      expect(Array.from(labelPlane(png))).toEqual(v8)
    }
    const v16 = labelMap(w, h, (x, y) => (x < 10 ? 26000 + y : y < 5 ? 24001 : x))
    await writeGray16(dir.file('g16.png'), v16, w, h)
    const png = await decodePng(readFileSync(dir.file('g16.png')))
    expect(png.bitDepth).toBe(16)
    expect(Array.from(labelPlane(png))).toEqual(v16)
  })

  it('refuses damaged and non-PNG data instead of returning wrong ids', async () => {
    const buf = encodePalettePng(labelMap(8, 8, (x) => x), 8, 8, vocPalette())
    const flipped = Buffer.from(buf)
    flipped[flipped.length - 20] ^= 0xff // inside IDAT: the CRC no longer matches
    await expect(decodePng(flipped)).rejects.toThrow(PngDecodeError)
    await expect(decodePng(buf.subarray(0, buf.length - 30))).rejects.toThrow(/truncated/)
    await expect(decodePng(Buffer.from('definitely not a png'))).rejects.toThrow(/signature/)
  })

  it('refuses RGB label images, whose ids would need a colour table', async () => {
    const buf = await sharp(new Uint8Array(4 * 4 * 3).fill(9), { raw: { width: 4, height: 4, channels: 3 } }).png().toBuffer()
    await expect(decodePng(buf).then(labelPlane)).rejects.toThrow(/RGB/)
  })

  it('refuses a header that declares more pixels than the limit, before inflating anything', async () => {
    // 400 KB on disk, 400 MB of rows once inflated: the 20000×20000 label of the adversarial pass.
    const huge = blackGreyPng(20000, 20000)
    expect(huge.length).toBeLessThan(500_000)
    const started = performance.now()
    const err = await decodePng(huge).catch((e: unknown) => e)
    const ms = performance.now() - started
    expect(err).toBeInstanceOf(ImageTooLargeError)
    expect((err as Error).message).toMatch(/20000×20000 pixels \(400\.0 megapixels\), over the limit of 67\.1 megapixels/)
    // Decoding it took 9 s and 1.7 GB; reading a header takes well under a millisecond.
    expect(ms).toBeLessThan(250)

    // Any limit the caller sets, checked on the header alone: here a real 8×8 file claims 9×8.
    const small = encodePalettePng(labelMap(8, 8, (x) => x), 8, 8, vocPalette())
    await expect(decodePng(small, { maxPixels: 64 })).resolves.toMatchObject({ width: 8, height: 8 })
    await expect(decodePng(declareSize(small, 9, 8), { maxPixels: 64 })).rejects.toThrow(/9×8 pixels/)
  })

  it('inflates no more image data than the header size needs, however much the stream holds', async () => {
    // A 4×4 header over 1 GB of zeros: 1 MB on disk.
    const bomb = blackGreyPng(4, 4, 1 << 30)
    const before = process.memoryUsage().arrayBuffers
    const started = performance.now()
    const png = await decodePng(bomb)
    const ms = performance.now() - started
    const grown = process.memoryUsage().arrayBuffers - before
    expect(Array.from(png.data)).toEqual(new Array(16).fill(0))
    expect(ms).toBeLessThan(250)
    expect(grown).toBeLessThan(64 << 20)
  })
})
