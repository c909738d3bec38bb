/**
 * NumPy .npy (format 1.0) for saliency maps, so results open directly in numpy / PyTorch tooling:
 * magic, version, a little-endian header dict padded to a multiple of 64 bytes, then the raw data.
 */
export function encodeNpy(data: Float32Array, shape: number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1)
  if (count !== data.length) throw new Error(`shape ${shape.join('×')} holds ${count} values, data has ${data.length}`)
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`
  const preamble = 10 // magic (6) + version (2) + header length (2)
  const padded = Math.ceil((preamble + header.length + 1) / 64) * 64
  header = header.padEnd(padded - preamble - 1, ' ') + '\n'
  const out = Buffer.alloc(preamble + header.length + data.byteLength)
  out.write('\x93NUMPY', 0, 'latin1')
  out.writeUInt8(1, 6)
  out.writeUInt8(0, 7)
  out.writeUInt16LE(header.length, 8)
  out.write(header, preamble, 'latin1')
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, preamble + header.length)
  return out
}

export function decodeNpy(buf: Buffer): { data: Float32Array; shape: number[] } {
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error('not a .npy file')
  const headerLength = buf.readUInt16LE(8)
  const header = buf.toString('latin1', 10, 10 + headerLength)
  if (!header.includes("'<f4'")) throw new Error('only little-endian float32 .npy files are supported')
  const shapeMatch = header.match(/'shape': \(([^)]*)\)/)
  const shape = (shapeMatch?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number)
  const bytes = buf.subarray(10 + headerLength)
  const copy = new Uint8Array(bytes.length)
  copy.set(bytes)
  return { data: new Float32Array(copy.buffer), shape }
}
