/**
 * Binary masks are stored run-length encoded: alternating run lengths starting with a run of zeros (possibly
 * empty), as uint32 little-endian. Segment masks are mostly empty, so this is far smaller than a bitmap.
 */
export function encodeMask(mask: Uint8Array | ArrayLike<number>): Buffer {
  const runs: number[] = []
  let value = 0
  let run = 0
  for (let i = 0; i < mask.length; i++) {
    const bit = mask[i] ? 1 : 0
    if (bit === value) run++
    else {
      runs.push(run)
      value = bit
      run = 1
    }
  }
  runs.push(run)
  const out = Buffer.alloc(4 + runs.length * 4)
  out.writeUInt32LE(mask.length, 0)
  runs.forEach((r, i) => out.writeUInt32LE(r, 4 + i * 4))
  return out
}

export function decodeMask(encoded: Buffer): Uint8Array {
  const length = encoded.readUInt32LE(0)
  const mask = new Uint8Array(length)
  let pos = 0
  let value = 0
  for (let off = 4; off < encoded.length; off += 4) {
    const run = encoded.readUInt32LE(off)
    if (pos + run > length) throw new Error('corrupt mask encoding: runs exceed the mask length')
    if (value) mask.fill(1, pos, pos + run)
    pos += run
    value ^= 1
  }
  if (pos !== length) throw new Error('corrupt mask encoding: runs do not cover the mask')
  return mask
}

export function float32ToBuffer(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength)
}

export function bufferToFloat32(b: Buffer): Float32Array {
  // Copy: a Buffer from SQLite may not be 4-byte aligned.
  const copy = new Uint8Array(b.byteLength)
  copy.set(b)
  return new Float32Array(copy.buffer)
}
