import type { JobState } from '@common/types'

/** "42s", "3m 05s", "2h 07m": an ETA is read at a glance, so seconds stop mattering past the hour. */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`
}

export function formatRate(perSecond: number | null | undefined): string {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return '—'
  return `${perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(1)}/s`
}

/** Mirrors the services' rules (src/main/services/audit.ts) so buttons that can only fail are not offered. */
export const canPause = (s: JobState): boolean => s === 'running' || s === 'queued'
export const canCancel = (s: JobState): boolean => s !== 'done' && s !== 'cancelled'
export const canResume = (s: JobState): boolean => s === 'paused' || s === 'failed' || s === 'queued'
