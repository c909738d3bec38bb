import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { maskAt, requestThumbnail, saliencyThumbnail, thumbSize } from '@main/explain/thumbnails'

/** A Cityscapes-size grey image with a small request (a distant rider: 24 x 40 pixels) near its right edge. */
const W = 2048
const H = 1024
const image = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(128) }
const request = new Uint8Array(W * H)
for (let y = 500; y < 540; y++) for (let x = 1800; x < 1824; x++) request[y * W + x] = 1

async function pixels(jpeg: Buffer): Promise<{ width: number; height: number; data: Buffer }> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true })
  return { width: info.width, height: info.height, data }
}
const isBlue = (d: Buffer, i: number): boolean => d[i * 3 + 2] > 180 && d[i * 3] < 100
const isRed = (d: Buffer, i: number): boolean => d[i * 3] > 160 && d[i * 3 + 1] < 100 && d[i * 3 + 2] < 100

describe('thumbnails of real-size images', () => {
  it('keeps a small request when reducing it: a thumbnail pixel is in the request when any pixel it covers is', () => {
    const small = maskAt(request, W, H, 160, 80)
    // 2048 / 160 = 12.8 image pixels per thumbnail pixel: the 24 x 40 request covers 2-3 x 3-4 of them.
    const inside = [...small].reduce((a, v) => a + v, 0)
    expect(inside).toBeGreaterThanOrEqual(6)
    expect(inside).toBeLessThanOrEqual(12)
    expect(small[Math.floor(520 / 12.8) * 160 + Math.floor(1810 / 12.8)]).toBe(1)
    // Enlarging is nearest: a 2 x 2 mask doubled is the same mask, four times over.
    expect([...maskAt(Uint8Array.from([1, 0, 0, 1]), 2, 2, 4, 4)]).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1])
  })

  it('outlines the request in blue at thumbnail size, and lays the saliency over it in red', async () => {
    const outlined = await pixels(await requestThumbnail(image, request, 160))
    expect(outlined).toMatchObject(thumbSize(image, 160))
    const blue = Array.from({ length: outlined.width * outlined.height }, (_, i) => i).filter((i) => isBlue(outlined.data, i))
    expect(blue.length).toBeGreaterThanOrEqual(4)
    // All of it where the request is: right of x = 1800 / 12.8 = 140.
    for (const i of blue) expect(i % outlined.width).toBeGreaterThanOrEqual(138)

    // A 4 x 8 gradient map whose peak cell is the top-left one: scaled by its peak, that corner turns red.
    const saliency = new Float32Array(32)
    saliency[0] = 5
    const overlay = await pixels(await saliencyThumbnail(image, { method: 'vg', saliency, saliencyHeight: 4, saliencyWidth: 8 }, request, 160))
    expect(isRed(overlay.data, 5 * overlay.width + 5)).toBe(true)
    expect(isRed(overlay.data, 60 * overlay.width + 100)).toBe(false)
  })
})
