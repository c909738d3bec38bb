import { InvalidArgumentError } from 'commander'

/** Option parsers shared by commands; commander reports their errors with the option's name. */

export function number(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`"${value}" is not a number`)
  return n
}

export function integer(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`"${value}" is not an integer`)
  return n
}

/** A saliency resolution written HxW, e.g. 4x4 (paper, synthetic) or 16x32 (paper, Cityscapes). */
export function maskSize(value: string): [number, number] {
  const m = value.match(/^(\d+)x(\d+)$/i)
  if (!m) throw new InvalidArgumentError(`"${value}" is not HxW, e.g. 4x4 or 16x32`)
  return [Number(m[1]), Number(m[2])]
}
