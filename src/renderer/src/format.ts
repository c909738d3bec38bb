/**
 * Numbers as the screens show them: a missing value is a dash the width of a digit, and a percent keeps a space
 * before its sign. Where a screen quotes a report's figures (the bias alerts) it uses @common/charts/format instead,
 * so they read as the PDF prints them.
 */

export { count } from '@common/charts/format'

const MISSING = '—'
const missing = (v: number | null | undefined): v is null | undefined => v === null || v === undefined || !Number.isFinite(v)

/** A share in [0, 1] as a percent: 0.688 → "68.8 %". */
export const percent = (share: number | null | undefined, digits = 1): string => (missing(share) ? MISSING : `${(100 * share).toFixed(digits)} %`)

export const fixed = (v: number | null | undefined, digits: number): string => (missing(v) ? MISSING : v.toFixed(digits))

/** "812", "12.3k", "4.56M": pixel counts of a whole dataset do not fit a matrix cell in full. */
export function compactCount(n: number): string {
  if (n < 1000) return String(n)
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 2 : n < 100_000 ? 1 : 0)}k`
  return `${(n / 1_000_000).toFixed(n < 10_000_000 ? 2 : 1)}M`
}

/** "42s", "3m 05s", "2h 07m": an ETA is read at a glance, so seconds stop mattering past the hour. */
export function formatEta(seconds: number | null | undefined): string {
  if (missing(seconds) || seconds < 0) return MISSING
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`
}

/** How long something ran, read like an ETA: "42s", "3m 05s", "2h 07m". */
export const formatDuration = (seconds: number | null | undefined): string => formatEta(seconds)

/** "2026-12-02 13:01" in local time: when a job started, to the minute. */
export function formatDateTime(iso: string | null | undefined): string {
  const d = iso ? new Date(iso) : null
  if (!d || Number.isNaN(d.getTime())) return MISSING
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}

export function formatRate(perSecond: number | null | undefined): string {
  if (missing(perSecond)) return MISSING
  return `${perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(1)}/s`
}
