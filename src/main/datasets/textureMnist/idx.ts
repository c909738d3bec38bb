import { readFileSync } from 'node:fs'
import { AppError } from '@common/errors'

/**
 * The IDX format MNIST ships in: two zero bytes, a type byte, a dimension count, big-endian uint32 sizes, then
 * the data row-major. Only unsigned bytes (type 0x08) are read: that is all MNIST uses, and anything else here
 * would be a wrong file rather than a format to support.
 */
export interface IdxArray {
  dims: number[]
  data: Uint8Array
}

const UBYTE = 0x08

export function parseIdx(bytes: Uint8Array, source = 'IDX data'): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new AppError('DATASET_INVALID', `${source} is not an IDX file (bad magic number)`)
  }
  if (bytes[2] !== UBYTE) {
    throw new AppError('DATASET_INVALID', `${source}: IDX element type 0x${bytes[2].toString(16)} is not unsigned byte`)
  }
  const ndims = bytes[3]
  const headerSize = 4 + 4 * ndims
  if (ndims === 0 || bytes.length < headerSize) throw new AppError('DATASET_INVALID', `${source}: truncated IDX header`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const dims: number[] = []
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false))
  const size = dims.reduce((a, b) => a * b, 1)
  if (bytes.length !== headerSize + size) {
    const actual = bytes.length - headerSize
    throw new AppError('DATASET_INVALID', `${source}: IDX header says ${size} bytes of data, file has ${actual}`)
  }
  return { dims, data: bytes.subarray(headerSize) }
}

export function readIdxFile(path: string): IdxArray {
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (err) {
    throw new AppError('DATASET_INVALID', `cannot read IDX file ${path}: ${(err as Error).message}`)
  }
  return parseIdx(bytes, path)
}
