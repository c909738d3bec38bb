import type { JobState } from '@common/types'

/** Mirrors the services' rules (src/main/services/audit.ts) so buttons that can only fail are not offered. */
export const canPause = (s: JobState): boolean => s === 'running' || s === 'queued'
export const canCancel = (s: JobState): boolean => s !== 'done' && s !== 'cancelled'
/** 'interrupted': its process ended without stopping it (killed, crashed); what it finished is stored. */
export const canResume = (s: JobState): boolean => s === 'paused' || s === 'failed' || s === 'queued' || s === 'interrupted'
