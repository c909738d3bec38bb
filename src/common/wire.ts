/**
 * The one codec for typed arrays where a reply must be JSON (the HTTP server of browser mode, the renderer's HTTP
 * transport, the CLI's --json output). Electron IPC needs none: its structured clone carries typed arrays as they
 * are, so the services return them and only these JSON edges turn them into tagged base64 and back. The renderer
 * therefore sees the same typed arrays in both modes.
 *
 * A typed array becomes `{ "$typed": "Float32Array", "base64": "…" }`, its bytes in the platform's order (little
 * endian on every platform Electron and Node ship for). A plain object with a `$typed` key of its own is not
 * something the contract holds, so the tag cannot be mistaken for data.
 */

const TYPED = {
  Uint8Array,
  Uint8ClampedArray,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array
} as const
export type TypedArrayName = keyof typeof TYPED
export type TypedArray = InstanceType<(typeof TYPED)[TypedArrayName]>

export interface WireTypedArray {
  $typed: TypedArrayName
  base64: string
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const DECODE = new Int16Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i

/**
 * Standard base64 with padding, without Buffer or atob: this module runs in the sandboxed renderer and in Node
 * alike, and atob/btoa go through a binary string that costs a copy per byte.
 */
export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = []
  // Chunks keep String.fromCharCode's argument list well under engines' limits.
  const CHUNK = 3 * 8192
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(bytes.length, start + CHUNK)
    const codes: number[] = []
    let i = start
    for (; i + 2 < end; i += 3) {
      const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2]
      codes.push(ALPHABET.charCodeAt(n >> 18), ALPHABET.charCodeAt((n >> 12) & 63), ALPHABET.charCodeAt((n >> 6) & 63), ALPHABET.charCodeAt(n & 63))
    }
    if (i < end) {
      const rest = end - i
      const n = (bytes[i] << 16) | (rest === 2 ? bytes[i + 1] << 8 : 0)
      codes.push(ALPHABET.charCodeAt(n >> 18), ALPHABET.charCodeAt((n >> 12) & 63), rest === 2 ? ALPHABET.charCodeAt((n >> 6) & 63) : 61, 61)
    }
    parts.push(String.fromCharCode(...codes))
  }
  return parts.join('')
}

export function base64ToBytes(text: string): Uint8Array {
  let end = text.length
  while (end > 0 && text.charCodeAt(end - 1) === 61) end--
  if (text.length % 4 !== 0 || text.length - end > 2) throw new Error('not base64: its length is not a multiple of 4')
  const out = new Uint8Array(Math.floor((end * 6) / 8))
  let o = 0
  let acc = 0
  let bits = 0
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i)
    const v = c < 128 ? DECODE[c] : -1
    if (v < 0) throw new Error(`not base64: character ${JSON.stringify(text[i])} at ${i}`)
    acc = ((acc << 6) | v) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 255
    }
  }
  return out
}

const NAMES = Object.keys(TYPED) as TypedArrayName[]

/** By instanceof, not by constructor name: a Node Buffer is a Uint8Array and travels as one. */
function typedName(value: unknown): TypedArrayName | null {
  if (!ArrayBuffer.isView(value)) return null
  return NAMES.find((name) => value instanceof TYPED[name]) ?? null
}

export function isWireTypedArray(value: unknown): value is WireTypedArray {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return typeof v.$typed === 'string' && v.$typed in TYPED && typeof v.base64 === 'string'
}

/** A typed array as its tagged base64; only the array's own bytes (a subarray does not carry its whole buffer). */
export function encodeTypedArray(array: TypedArray): WireTypedArray {
  const name = typedName(array)
  if (!name) throw new Error(`not a typed array the wire codec knows: ${Object.prototype.toString.call(array)}`)
  return { $typed: name, base64: bytesToBase64(new Uint8Array(array.buffer, array.byteOffset, array.byteLength)) }
}

export function decodeTypedArray(wire: WireTypedArray): TypedArray {
  const Ctor = TYPED[wire.$typed]
  const bytes = base64ToBytes(wire.base64)
  if (bytes.byteLength % Ctor.BYTES_PER_ELEMENT !== 0) {
    throw new Error(`${bytes.byteLength} bytes are not a whole number of ${wire.$typed} elements`)
  }
  // A fresh buffer of its own: the decoded bytes start at offset 0, so any element size is aligned.
  return new Ctor(bytes.buffer as ArrayBuffer, 0, bytes.byteLength / Ctor.BYTES_PER_ELEMENT)
}

/** A value as JSON can carry it: every typed array inside (at any depth) replaced by its tagged base64. */
export function toWire(value: unknown): unknown {
  if (typedName(value)) return encodeTypedArray(value as TypedArray)
  if (Array.isArray(value)) return value.map(toWire)
  if (value === null || typeof value !== 'object') return value
  // Dates, errors and the like serialise themselves (toJSON): leave them to JSON.stringify.
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = toWire(v)
  return out
}

/** The reverse of toWire on parsed JSON: every tagged base64 inside becomes its typed array again. */
export function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire)
  if (value === null || typeof value !== 'object') return value
  if (isWireTypedArray(value)) return decodeTypedArray(value)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = fromWire(v)
  return out
}

/** JSON text of a value with typed arrays, for the HTTP replies and `--json`. */
export function stringifyWire(value: unknown, space?: number): string {
  return JSON.stringify(toWire(value), null, space)
}
