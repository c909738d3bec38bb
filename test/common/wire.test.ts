import { describe, expect, it } from 'vitest'
import { base64ToBytes, bytesToBase64, decodeTypedArray, encodeTypedArray, fromWire, stringifyWire, toWire } from '@common/wire'

/** Through JSON text and back, as a reply crosses HTTP or the CLI's --json. */
const roundTrip = (value: unknown): unknown => fromWire(JSON.parse(stringifyWire(value)))

describe('wire codec', () => {
  it('writes the same base64 as Node for every length remainder, and reads it back', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 255, 256, 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1, 100_003]) {
      const bytes = new Uint8Array(n)
      for (let i = 0; i < n; i++) bytes[i] = (i * 131 + 7) & 255
      const text = bytesToBase64(bytes)
      expect(text).toBe(Buffer.from(bytes).toString('base64'))
      expect(base64ToBytes(text)).toEqual(bytes)
    }
  })

  it('refuses text that is not base64 instead of returning wrong bytes', () => {
    expect(() => base64ToBytes('abc')).toThrow(/multiple of 4/)
    expect(() => base64ToBytes('ab$d')).toThrow(/character "\$"/)
  })

  it('round-trips every typed array kind bit for bit, NaN and infinities included', () => {
    const f32 = new Float32Array([0, -0, 1.5, -3.25e-20, Number.NaN, Infinity, -Infinity, 3.4e38])
    const values = {
      f32,
      f64: new Float64Array([Math.PI, -1e-300]),
      u8: new Uint8Array([0, 1, 254, 255]),
      u8c: new Uint8ClampedArray([0, 128, 255]),
      i8: new Int8Array([-128, 127]),
      u16: new Uint16Array([0, 65535, 300]),
      i16: new Int16Array([-32768, 32767]),
      u32: new Uint32Array([0, 4294967295]),
      i32: new Int32Array([-2147483648, 2147483647])
    }
    const back = roundTrip(values) as typeof values
    for (const [key, original] of Object.entries(values)) {
      const decoded = back[key as keyof typeof values]
      expect(decoded.constructor).toBe(original.constructor)
      expect(new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength)).toEqual(new Uint8Array(original.buffer, original.byteOffset, original.byteLength))
    }
    expect(Object.is(back.f32[1], -0)).toBe(true)
    expect(back.f32[4]).toBeNaN()
  })

  it('round-trips empty arrays', () => {
    const back = roundTrip({ a: new Float32Array(0), b: new Uint8Array(0) }) as { a: Float32Array; b: Uint8Array }
    expect(back.a).toBeInstanceOf(Float32Array)
    expect(back.a.length).toBe(0)
    expect(back.b).toBeInstanceOf(Uint8Array)
    expect(back.b.length).toBe(0)
  })

  it('sends only a subarray\'s own elements, from an offset the element size does not divide', () => {
    const bytes = new Uint8Array(64)
    for (let i = 0; i < bytes.length; i++) bytes[i] = i
    // A view at byte offset 3 of a shared buffer: Float32 cannot view it in place, so copy it out first.
    const unaligned = new Float32Array(bytes.slice(3, 3 + 16).buffer)
    const sub = new Uint8Array(bytes.buffer, 5, 7)
    const floats = new Float32Array([1, 2, 3, 4, 5, 6]).subarray(2, 5)
    const wire = toWire({ sub, floats, unaligned }) as Record<string, { base64: string }>
    expect(base64ToBytes(wire.sub.base64)).toEqual(new Uint8Array([5, 6, 7, 8, 9, 10, 11]))
    expect(base64ToBytes(wire.floats.base64).length).toBe(3 * 4)
    const back = roundTrip({ sub, floats, unaligned }) as { sub: Uint8Array; floats: Float32Array; unaligned: Float32Array }
    expect(Array.from(back.sub)).toEqual([5, 6, 7, 8, 9, 10, 11])
    expect(Array.from(back.floats)).toEqual([3, 4, 5])
    expect(back.unaligned).toEqual(unaligned)
    // Decoded arrays own a fresh buffer from offset 0, so even a Float64Array needs no alignment from its source.
    expect(back.floats.byteOffset).toBe(0)
    expect(back.floats.buffer.byteLength).toBe(12)
  })

  it('walks nested objects and arrays and leaves everything else as JSON has it', () => {
    const value = {
      id: 3,
      name: 'rider',
      none: null,
      flag: false,
      list: [1, 'two', { mask: new Uint8Array([1, 0, 1]) }, [new Float32Array([0.25])]],
      deep: { deeper: { saliency: new Float32Array([0.5, 0.75]), request: new Uint8Array([1]) } }
    }
    const json = JSON.parse(stringifyWire(value))
    expect(json.deep.deeper.saliency).toEqual({ $typed: 'Float32Array', base64: expect.any(String) })
    expect(json.list[2].mask).toEqual({ $typed: 'Uint8Array', base64: 'AQAB' })
    expect(fromWire(json)).toEqual(value)
    // A date is not a plain object: JSON gives its ISO text, as before.
    expect(JSON.parse(stringifyWire({ at: new Date(0) }))).toEqual({ at: '1970-01-01T00:00:00.000Z' })
  })

  it('carries a Node Buffer as the Uint8Array it is, not as Buffer.toJSON', () => {
    const back = roundTrip({ b: Buffer.from([9, 8, 7]) }) as { b: Uint8Array }
    expect(back.b).toBeInstanceOf(Uint8Array)
    expect(Array.from(back.b)).toEqual([9, 8, 7])
  })

  it('refuses a tag whose bytes do not fill whole elements', () => {
    expect(() => decodeTypedArray({ $typed: 'Float32Array', base64: 'AQID' })).toThrow(/whole number of Float32Array/)
    expect(encodeTypedArray(new Int16Array([1])).base64).toBe('AQA=')
  })
})
