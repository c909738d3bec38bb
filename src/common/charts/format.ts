/** Numbers as the report prints them; the screen and the PDF share these so a value reads the same in both. */

export const percent = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : `${(100 * v).toFixed(digits)}%`

export const fixed = (v: number | null | undefined, digits = 2): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits)

/** Chart data rounded once, so tooltips, labels and the PDF show the same digits. */
export const round = (v: number | null | undefined, digits = 4): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(digits))

/** "1 explanation", "3 images", "2 classes". */
export const count = (n: number, noun: string, plural = `${noun}s`): string => `${n} ${n === 1 ? noun : plural}`

/** Below this many, a part of a whole is printed as a count: "1 of 1" says what "100%" hides. */
export const MIN_PERCENT_BASE = 10

/** `part` of `whole` as a percent, or as "part of whole" when the whole is too small for a percent to mean much. */
export const proportion = (part: number, whole: number, digits = 0): string => (whole < MIN_PERCENT_BASE ? `${part} of ${whole}` : percent(part / whole, digits))
