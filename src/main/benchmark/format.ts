/** A number with `d` decimals for the benchmark's tables and texts; '—' where there is none. */
export const fixed = (v: number | null | undefined, d = 3): string => (v === null || v === undefined ? '—' : v.toFixed(d))
