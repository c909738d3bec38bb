import { resolve } from 'node:path'
import { InvalidArgumentError } from 'commander'
import { isClassListFile } from '@common/modelDescription'

/**
 * Option parsers shared by commands; commander reports their errors with the option's name. Each rejects at the
 * command line what the contract would reject later anyway, so a typo such as `--steps abc` is named before any
 * project is opened (plain Number would let it through as NaN).
 */

/** The message names what the option wants whichever check fails, e.g. a positive integer for "abc" as for "0". */
function parsed(value: string, what: string, ok: (n: number) => boolean): number {
  // Number('') and Number(' ') are 0, not an error.
  const n = value.trim() === '' ? NaN : Number(value)
  if (!Number.isFinite(n) || !ok(n)) throw new InvalidArgumentError(`"${value}" is not ${what}`)
  return n
}

export const number = (value: string): number => parsed(value, 'a number', () => true)
export const integer = (value: string): number => parsed(value, 'an integer', Number.isInteger)
export const positiveInt = (value: string): number => parsed(value, 'a positive integer', (n) => Number.isInteger(n) && n >= 1)
export const nonNegativeInt = (value: string): number => parsed(value, 'a non-negative integer', (n) => Number.isInteger(n) && n >= 0)
export const positiveNumber = (value: string): number => parsed(value, 'a positive number', (n) => n > 0)
export const nonNegativeNumber = (value: string): number => parsed(value, 'a non-negative number', (n) => n >= 0)

export const intInRange =
  (min: number, max: number) =>
  (value: string): number =>
    parsed(value, `an integer from ${min} to ${max}`, (n) => Number.isInteger(n) && n >= min && n <= max)

export const numberInRange =
  (min: number, max: number) =>
  (value: string): number =>
    parsed(value, `a number from ${min} to ${max}`, (n) => n >= min && n <= max)

export const numberAtLeast =
  (min: number) =>
  (value: string): number =>
    parsed(value, `a number of at least ${min}`, (n) => n >= min)

/** A saliency resolution written HxW, e.g. 4x4 (paper, synthetic) or 16x32 (paper, Cityscapes). */
export function maskSize(value: string): [number, number] {
  const m = value.match(/^(\d+)x(\d+)$/i)
  if (!m) throw new InvalidArgumentError(`"${value}" is not HxW, e.g. 4x4 or 16x32`)
  const size: [number, number] = [Number(m[1]), Number(m[2])]
  if (size[0] < 1 || size[1] < 1) throw new InvalidArgumentError(`"${value}": height and width must be at least 1`)
  return size
}

/**
 * A file or folder named on the command line, made absolute against the shell's working folder here: the services
 * take absolute paths only (src/common/absolutePath.ts), so what the user types means what it means in their shell.
 */
export function pathArg(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('an empty path names no file or folder')
  return resolve(value)
}

/** `--model <id|file|dir>`: a registered model's id as it is, a model file or folder made absolute. */
export const modelRef = (value: string): string => (/^\d+$/.test(value) ? value : pathArg(value))

/** `--classes <preset|file>`: a preset name as it is, a class-list file made absolute. */
export const classesRef = (value: string): string => (isClassListFile(value) ? pathArg(value) : value)
