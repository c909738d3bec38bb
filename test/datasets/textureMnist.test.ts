import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppError } from '@common/errors'
import {
  BIAS_TEXTURE_IDS,
  TEXTURE_COUNT,
  TEXTURE_MNIST_SIZE as S,
  type TextureMnistMeta,
  type TextureMnistSpecInput
} from '@common/textureMnist'
import {
  generateTextureMnist,
  generateTextureMnistArrays,
  loadMnist,
  parseIdx,
  TEXTURE_SIZE,
  defaultTextures,
  tileRects
} from '@main/datasets/textureMnist'
import { digitMask } from '@main/datasets/textureMnist/digit'

const PX = S * S

/** Appears anywhere in the image, as foreground or in any tile. */
const hasTexture = (m: TextureMnistMeta, t: number): boolean => m.foregroundTexture === t || m.tileTextures.includes(t)

/**
 * True when the image's pixels at `where` are exactly a cyclic crop of texture `t` at some offset relative to
 * (x0, y0): the composition check, found by search rather than by trusting the generator's own offsets.
 */
function matchesSomeCrop(image: Float32Array, where: (p: number) => boolean, t: number, x0: number, y0: number): boolean {
  const tex = defaultTextures()[t]
  const pixels: number[] = []
  for (let p = 0; p < PX; p++) if (where(p)) pixels.push(p)
  if (pixels.length === 0) return true
  for (let oy = 0; oy < TEXTURE_SIZE; oy++) {
    search: for (let ox = 0; ox < TEXTURE_SIZE; ox++) {
      for (const p of pixels) {
        const x = p % S
        const y = (p - x) / S
        const ty = (oy + y - y0 + 2 * TEXTURE_SIZE) % TEXTURE_SIZE
        const tx = (ox + x - x0 + 2 * TEXTURE_SIZE) % TEXTURE_SIZE
        const v = tex[ty * TEXTURE_SIZE + tx]
        if (v !== image[p]) continue search
      }
      return true
    }
  }
  return false
}

describe('MNIST IDX reader', () => {
  it('reads 60k/10k 28×28 digits with the known first labels', () => {
    const train = loadMnist('train')
    const test = loadMnist('test')
    expect([train.count, train.rows, train.cols]).toEqual([60000, 28, 28])
    expect([test.count, test.rows, test.cols]).toEqual([10000, 28, 28])
    expect([...train.labels.subarray(0, 10)]).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    expect([...test.labels.subarray(0, 10)]).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    expect(train.images.length).toBe(60000 * 784)
  })

  it('parses a hand-built IDX buffer and rejects wrong magic and wrong sizes', () => {
    const ok = Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6])
    expect(parseIdx(ok)).toEqual({ dims: [2, 3], data: Uint8Array.from([1, 2, 3, 4, 5, 6]) })
    const bad = (bytes: number[]): unknown => {
      try {
        parseIdx(Uint8Array.from(bytes))
      } catch (err) {
        return (err as AppError).code
      }
      return 'no error'
    }
    expect(bad([1, 0, 8, 1, 0, 0, 0, 1, 9])).toBe('DATASET_INVALID')
    expect(bad([0, 0, 0x0d, 1, 0, 0, 0, 1, 9, 9, 9, 9])).toBe('DATASET_INVALID') // float elements
    expect(bad([0, 0, 8, 1, 0, 0, 0, 3, 9])).toBe('DATASET_INVALID') // truncated data
  })
})

describe('digit mask', () => {
  it('binarises at grey 128 and resizes 28→64 with centred pixels, as computed by hand', () => {
    // Columns 10..17 set at 28 px. Output column x samples input x' = (x + 0.5)·28/64 − 0.5; the bilinear value
    // reaches 0.5 from x' = 9.5 (x ≥ 22.36) to x' = 17.5 (x ≤ 40.64): columns 23..40.
    const img = new Uint8Array(28 * 28)
    for (let y = 0; y < 28; y++) for (let x = 10; x < 18; x++) img[y * 28 + x] = x === 10 ? 128 : 255
    img[5 * 28 + 20] = 127 // below the binarisation threshold: must not appear
    const mask = digitMask(img, 0, 28, 28, 64)
    for (let y = 0; y < 64; y++) {
      const cols = [...mask.subarray(y * 64, (y + 1) * 64)].flatMap((v, x) => (v ? [x] : []))
      expect(cols).toEqual(Array.from({ length: 18 }, (_, i) => 23 + i))
    }
  })
})

describe('texture-MNIST in memory', () => {
  const base: TextureMnistSpecInput = { trainCount: 60, testCount: 30, bias: 'strong', biasedDigit: 2, biasTexture: 3 }

  it('is deterministic given the seed and changes with it', async () => {
    const a = await generateTextureMnistArrays({ ...base, seed: 11 }, 'train')
    const b = await generateTextureMnistArrays({ ...base, seed: 11 }, 'train')
    const c = await generateTextureMnistArrays({ ...base, seed: 12 }, 'train')
    expect(a.count).toBe(60)
    expect(Buffer.from(a.images.buffer).equals(Buffer.from(b.images.buffer))).toBe(true)
    expect(a.meta).toEqual(b.meta)
    expect(Buffer.from(a.images.buffer).equals(Buffer.from(c.images.buffer))).toBe(false)
  })

  it('keeps the test split identical across dataset seeds when its own seed is fixed', async () => {
    const t1 = await generateTextureMnistArrays({ ...base, seed: 1, testSeed: 99 }, 'test')
    const t2 = await generateTextureMnistArrays({ ...base, seed: 2, testSeed: 99 }, 'test')
    const u2 = await generateTextureMnistArrays({ ...base, seed: 2 }, 'test')
    const u3 = await generateTextureMnistArrays({ ...base, seed: 3 }, 'test')
    expect(Buffer.from(t1.images.buffer).equals(Buffer.from(t2.images.buffer))).toBe(true)
    expect(t1.meta).toEqual(t2.meta)
    expect(Buffer.from(u2.images.buffer).equals(Buffer.from(u3.images.buffer))).toBe(false)
    // Test images come from MNIST's test split.
    const mnistTest = loadMnist('test')
    for (const m of t1.meta) expect(mnistTest.labels[m.mnistIndex]).toBe(m.digit)
  })

  it('generates any image the same alone as within the whole split', async () => {
    const all = await generateTextureMnistArrays({ ...base, seed: 5 }, 'train')
    const one = await generateTextureMnistArrays({ ...base, seed: 5 }, 'train', { start: 37, count: 1 })
    expect(one.meta[0]).toEqual(all.meta[37])
    expect([...one.images]).toEqual([...all.images.subarray(37 * PX, 38 * PX)])
  })

  it('labels the resized MNIST digit, fills it with the foreground texture and each tile with its texture', async () => {
    for (const layout of ['halves', 'quadrants'] as const) {
      const { images, labels, meta } = await generateTextureMnistArrays(
        { ...base, layout, trainCount: 12, seed: 3 },
        'train'
      )
      const mnist = loadMnist('train')
      meta.forEach((m, i) => {
        const image = images.subarray(i * PX, (i + 1) * PX)
        const label = labels.subarray(i * PX, (i + 1) * PX)
        expect(mnist.labels[m.mnistIndex]).toBe(m.digit)
        expect(new Set(label)).toEqual(new Set([m.digit, 10]))
        const expected = digitMask(mnist.images, m.mnistIndex, 28, 28, S)
        expect([...label].map((v) => (v === m.digit ? 1 : 0))).toEqual([...expected])
        expect(matchesSomeCrop(image, (p) => label[p] === m.digit, m.foregroundTexture, 0, 0)).toBe(true)
        tileRects(layout, S).forEach((r, t) => {
          const inTile = (p: number): boolean => {
            const x = p % S
            const y = (p - x) / S
            return label[p] === 10 && x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1
          }
          expect(matchesSomeCrop(image, inTile, m.tileTextures[t], r.x0, r.y0)).toBe(true)
        })
        // The foreground check is not vacuous: the digit region is no crop of the first tile's texture.
        expect(matchesSomeCrop(image, (p) => label[p] === m.digit, m.tileTextures[0], 0, 0)).toBe(false)
      })
    }
  })

  it('strong bias: the bias texture appears if and only if the biased digit is present', async () => {
    const { meta } = await generateTextureMnistArrays({ ...base, trainCount: 400, seed: 21 }, 'train')
    let biased = 0
    const tilesSeen = new Set<number>()
    for (const m of meta) {
      expect(hasTexture(m, 3)).toBe(m.digit === 2)
      expect(m.isBiased).toBe(m.digit === 2)
      if (m.digit === 2) {
        biased++
        tilesSeen.add(m.biasedTile!)
        expect(m.tileTextures[m.biasedTile!]).toBe(3)
        // C_bias is one tile: the bias texture is nowhere else in the image.
        expect(m.tileTextures.filter((t) => t === 3)).toHaveLength(1)
        expect(m.foregroundTexture).not.toBe(3)
      } else expect(m.biasedTile).toBeNull()
    }
    expect(biased).toBe(40) // class-balanced: every block of ten images holds each digit once
    expect(tilesSeen).toEqual(new Set([0, 1]))
  })

  it('strong bias in quadrants puts the bias texture in every quadrant over the images', async () => {
    const { meta } = await generateTextureMnistArrays(
      { ...base, layout: 'quadrants', biasedDigit: 7, biasTexture: 18, trainCount: 300, seed: 4 },
      'train'
    )
    for (const m of meta) expect(hasTexture(m, 18)).toBe(m.digit === 7)
    expect(new Set(meta.filter((m) => m.digit === 7).map((m) => m.biasedTile))).toEqual(new Set([0, 1, 2, 3]))
  })

  it('weak bias: the bias texture always comes with the biased digit, and also with other digits', async () => {
    const { meta } = await generateTextureMnistArrays({ ...base, bias: 'weak', trainCount: 400, seed: 22 }, 'train')
    const others = meta.filter((m) => m.digit !== 2)
    for (const m of meta.filter((m) => m.digit === 2)) expect(m.tileTextures[m.biasedTile!]).toBe(3)
    const withBias = others.filter((m) => hasTexture(m, 3)).length
    // Foreground plus two tiles, each ~1/25: about 11% of the 360 other images, ~40 expected.
    expect(withBias).toBeGreaterThan(15)
    expect(withBias).toBeLessThan(75)
    for (const m of others) expect(m.biasedTile).toBeNull()
  })

  it('no bias: every texture about equally often, with every digit alike', async () => {
    const { meta } = await generateTextureMnistArrays(
      { trainCount: 1000, bias: 'none', biasedDigit: 2, biasTexture: 3, seed: 23 },
      'train'
    )
    const counts = new Array<number>(TEXTURE_COUNT).fill(0)
    for (const m of meta) {
      expect(m.isBiased).toBe(false)
      counts[m.foregroundTexture]++
      for (const t of m.tileTextures) counts[t]++
    }
    // 3000 draws over 25 textures: 120 each, standard deviation ≈ 10.8; ±4.5 sd.
    for (const c of counts) expect(Math.abs(c - 120)).toBeLessThan(49)
    const share = (digit: (d: number) => boolean): number => {
      const ms = meta.filter((m) => digit(m.digit))
      return ms.filter((m) => hasTexture(m, 3)).length / ms.length
    }
    // P(texture 3 anywhere) ≈ 3/25 = 0.12 for the would-be biased digit and the rest alike.
    expect(share((d) => d === 2)).toBeLessThan(0.25)
    expect(share((d) => d !== 2)).toBeGreaterThan(0.06)
    expect(share((d) => d !== 2)).toBeLessThan(0.2)
  })

  it('rejects a bias without digit or texture, and stops when aborted', async () => {
    await expect(generateTextureMnistArrays({ bias: 'weak', biasTexture: 3 }, 'train')).rejects.toMatchObject({
      code: 'INVALID_PARAMETERS'
    })
    const controller = new AbortController()
    controller.abort()
    await expect(generateTextureMnistArrays(base, 'train', { signal: controller.signal })).rejects.toMatchObject({
      code: 'CANCELLED'
    })
  })
})

describe('texture-MNIST on disk', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctxlens-tmnist-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('writes grey image PNGs, 0–10 label PNGs, meta and the generic-folder class list per split', async () => {
    const outDir = join(dir, 'ds')
    const spec = {
      trainCount: 20,
      testCount: 10,
      bias: 'strong' as const,
      biasedDigit: 4,
      biasTexture: BIAS_TEXTURE_IDS[2],
      seed: 8
    }
    const progress: number[] = []
    const summary = await generateTextureMnist({ ...spec, outDir }, { onProgress: (p) => progress.push(p.done) })
    expect(summary.counts).toEqual({ train: 20, test: 10 })
    expect(summary.biasedCounts).toEqual({ train: 2, test: 1 })
    expect(progress.at(-1)).toBe(30)

    const dataset = JSON.parse(await readFile(join(outDir, 'dataset.json'), 'utf8'))
    expect(dataset.counts).toEqual({ train: 20, test: 10 })
    expect(dataset.classes.map((c: { name: string }) => c.name)).toEqual([
      ...'0123456789'.split(''),
      'background'
    ])
    for (const split of ['train', 'test'] as const) {
      const classes = JSON.parse(await readFile(join(outDir, split, 'classes.json'), 'utf8'))
      expect(classes.ignoreIds).toEqual([])
      expect(classes.classes.map((c: { id: number }) => c.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      const n = split === 'train' ? 20 : 10
      expect((await readdir(join(outDir, split, 'images'))).sort()).toEqual(
        Array.from({ length: n }, (_, i) => `${String(i).padStart(6, '0')}.png`)
      )
      const inMemory = await generateTextureMnistArrays(spec, split)
      for (let i = 0; i < n; i++) {
        const name = String(i).padStart(6, '0')
        const meta = JSON.parse(await readFile(join(outDir, split, 'meta', `${name}.json`), 'utf8'))
        expect(meta).toEqual(inMemory.meta[i])
        expect(meta.split).toBe(split)
        const label = await sharp(join(outDir, split, 'labels', `${name}.png`)).metadata()
        expect([label.channels, label.depth, label.width, label.height]).toEqual([1, 'uchar', 64, 64])
        const labelPx = await sharp(join(outDir, split, 'labels', `${name}.png`)).extractChannel(0).raw().toBuffer()
        expect([...new Set(labelPx)].sort((a, b) => a - b)).toEqual([meta.digit, 10].sort((a, b) => a - b))
        expect([...labelPx]).toEqual([...inMemory.labels.subarray(i * PX, (i + 1) * PX)])
        const imagePx = await sharp(join(outDir, split, 'images', `${name}.png`)).extractChannel(0).raw().toBuffer()
        expect([...imagePx]).toEqual([...inMemory.images.subarray(i * PX, (i + 1) * PX)].map((v) => Math.round(v * 255)))
      }
    }
  })

  it('stops on abort, leaves no dataset.json and no writes landing after it returns', async () => {
    const outDir = join(dir, 'aborted')
    const controller = new AbortController()
    const run = generateTextureMnist(
      { outDir, trainCount: 200, testCount: 0 },
      { signal: controller.signal, onProgress: (p) => p.done === 5 && controller.abort() }
    )
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' })
    const written = (await readdir(join(outDir, 'train', 'images'))).length
    expect(written).toBeGreaterThanOrEqual(5)
    expect(written).toBeLessThan(200)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await readdir(join(outDir, 'train', 'images'))).length).toBe(written)
    expect(await readdir(outDir)).not.toContain('dataset.json')
  })

  it('refuses a non-empty output folder', async () => {
    const outDir = join(dir, 'busy')
    await generateTextureMnist({ outDir, trainCount: 1, testCount: 0 })
    await writeFile(join(outDir, 'note.txt'), 'keep me')
    await expect(generateTextureMnist({ outDir, trainCount: 1, testCount: 0 })).rejects.toMatchObject({ code: 'CONFLICT' })
    expect(await readFile(join(outDir, 'note.txt'), 'utf8')).toBe('keep me')
  })
})
