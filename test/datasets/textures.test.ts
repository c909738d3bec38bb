import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { TEXTURE_COUNT } from '@common/textureMnist'
import { makeTextures, TEXTURE_SIZE, writeTextureContactSheet } from '@main/datasets/textureMnist'
import { minShiftRms, spectrum } from './shiftDistance'

const N = TEXTURE_SIZE

function standardise(t: Float32Array): Float32Array {
  let mean = 0
  for (const v of t) mean += v
  mean /= t.length
  let sq = 0
  for (const v of t) sq += (v - mean) ** 2
  const sd = Math.sqrt(sq / t.length)
  return t.map((v) => (v - mean) / sd)
}

describe('procedural textures', () => {
  const textures = makeTextures()

  it('are 25 deterministic textures in [0, 1] with real contrast', () => {
    expect(textures).toHaveLength(TEXTURE_COUNT)
    const bytes = (ts: Float32Array[]): Buffer => Buffer.concat(ts.map((t) => Buffer.from(t.buffer)))
    expect(bytes(makeTextures()).equals(bytes(textures))).toBe(true)
    // The random ones (noise, random dots) follow the seed.
    expect(bytes([makeTextures(1)[12]]).equals(bytes([textures[12]]))).toBe(false)
    for (const t of textures) {
      expect(t.length).toBe(N * N)
      let mean = 0
      let min = Infinity
      let max = -Infinity
      for (const v of t) {
        mean += v
        min = Math.min(min, v)
        max = Math.max(max, v)
      }
      mean /= t.length
      expect(min).toBeGreaterThanOrEqual(0)
      expect(max).toBeLessThanOrEqual(1)
      const sd = Math.sqrt(t.reduce((a, v) => a + (v - mean) ** 2, 0) / t.length)
      expect(sd).toBeGreaterThan(0.12)
    }
  })

  it('are pairwise clearly distinct under every shift, in grey levels and in shape', () => {
    // The distance helper itself: a shifted copy is at distance 0.
    const shifted = textures[13].map((_, p) => textures[13][(((p >> 7) + 37) % N) * N + (((p & 127) + 5) % N)])
    expect(minShiftRms(spectrum(textures[13], N), spectrum(shifted, N), N)).toBeLessThan(1e-6)

    const raw = textures.map((t) => spectrum(t, N))
    // Standardised, ‖a − shift(b)‖²/N² = 2 − 2ρ, so this bounds the best shifted correlation ρ.
    const shape = textures.map((t) => spectrum(standardise(t), N))
    for (let i = 0; i < textures.length; i++) {
      for (let j = i + 1; j < textures.length; j++) {
        expect(minShiftRms(raw[i], raw[j], N), `textures ${i} and ${j}`).toBeGreaterThan(0.15)
        const d = minShiftRms(shape[i], shape[j], N)
        expect(1 - (d * d) / 2, `correlation of textures ${i} and ${j}`).toBeLessThan(0.65)
      }
    }
  })

  it('writes a 5×5 contact sheet', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctxlens-sheet-'))
    try {
      const path = join(process.env.TEXTURE_SHEET_DIR ?? dir, 'textures.png')
      await writeTextureContactSheet(path, textures)
      const meta = await sharp(path).metadata()
      expect([meta.width, meta.height, meta.channels]).toEqual([5 * (N + 12), 5 * (N + 12), 1])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
