import { describe, expect, it } from 'vitest'
import { decodeNpy, encodeNpy } from '@main/explain/npy'
import { renderOverlay } from '@main/explain/overlay'

describe('NPY writer', () => {
  it('writes the documented format 1.0 header, 64-byte aligned, and round-trips', () => {
    const data = new Float32Array([0, 0.25, 0.5, 1, 2, 3])
    const buf = encodeNpy(data, [2, 3])
    expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]))
    const headerLength = buf.readUInt16LE(8)
    expect((10 + headerLength) % 64).toBe(0)
    expect(buf.toString('latin1', 10, 10 + headerLength)).toBe(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".padEnd(headerLength - 1, ' ') + '\n'
    )
    expect(buf.readFloatLE(10 + headerLength + 4)).toBe(0.25)
    const back = decodeNpy(buf)
    expect(back.shape).toEqual([2, 3])
    expect(Array.from(back.data)).toEqual(Array.from(data))
  })

  it('refuses a shape that does not fit the data', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/holds 6 values/)
  })
})

describe('overlay in the paper style', () => {
  it('paints saliency red in proportion and outlines the request in blue', () => {
    const width = 5
    const height = 5
    const image = new Uint8Array(width * height * 3).fill(100)
    const saliency = new Float32Array(width * height)
    saliency[0] = 1 // full saliency, top-left
    const request = new Uint8Array(width * height)
    for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) request[y * width + x] = 1
    const out = renderOverlay({ width, height, image, saliency, request, alpha: 0.5 })
    expect(Array.from(out.subarray(0, 3))).toEqual([Math.round(100 * 0.5 + 230 * 0.5), Math.round(100 * 0.5 + 20 * 0.5), Math.round(100 * 0.5 + 20 * 0.5)])
    // The 3×3 request: its 8 border pixels blue, the centre untouched.
    const px = (x: number, y: number) => Array.from(out.subarray((y * width + x) * 3, (y * width + x) * 3 + 3))
    expect(px(1, 1)).toEqual([30, 90, 255])
    expect(px(3, 2)).toEqual([30, 90, 255])
    expect(px(2, 2)).toEqual([100, 100, 100])
    expect(px(4, 4)).toEqual([100, 100, 100])
  })
})
