import { AppError } from './errors'

/**
 * Masks as runs [start, length, start, length, …] of set pixels, row-major: how a request mask travels both ways
 * (a mask drawn on the image screen to the services, a stored explanation's request back to it). A request covers
 * a small part of its image in a few runs per row, where a byte per pixel would be mostly zeros.
 */

export function maskToRuns(mask: Uint8Array): number[] {
  const runs: number[] = []
  let i = 0
  while (i < mask.length) {
    if (!mask[i]) {
      i++
      continue
    }
    const start = i
    while (i < mask.length && mask[i]) i++
    runs.push(start, i - start)
  }
  return runs
}

/** The mask of a width×height image from its runs; a run outside the image is refused. */
export function maskFromRuns(runs: readonly number[], width: number, height: number): Uint8Array {
  if (runs.length % 2 !== 0) throw new AppError('INVALID_PARAMETERS', 'request runs come in [start, length] pairs')
  const n = width * height
  const mask = new Uint8Array(n)
  for (let i = 0; i < runs.length; i += 2) {
    const start = runs[i]
    const end = start + runs[i + 1]
    if (end > n) throw new AppError('REQUEST_SIZE_MISMATCH', `request run ${start}+${runs[i + 1]} ends outside the ${width}×${height} image`)
    mask.fill(1, start, end)
  }
  return mask
}

/** Set pixels of a mask given as runs, without building it. */
export function runsArea(runs: readonly number[]): number {
  let area = 0
  for (let i = 1; i < runs.length; i += 2) area += runs[i]
  return area
}
