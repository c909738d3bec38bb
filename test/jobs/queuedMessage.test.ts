import { describe, expect, it } from 'vitest'
import { queuedMessage } from '@main/jobs/saliencyEngine'

describe('queuedMessage', () => {
  it('says that background work holds the workers and that this run goes first', () => {
    expect(queuedMessage({ workers: 2, busy: 2, queued: { interactive: 0, background: 5 } })).toBe(
      'Waiting for a worker: all 2 workers are busy with background work (see Jobs); this run goes first when one is free'
    )
    expect(queuedMessage({ workers: 1, busy: 1, queued: { interactive: 0, background: 0 } })).toContain('the only worker is busy')
  })

  it('counts interactive runs queued ahead', () => {
    expect(queuedMessage({ workers: 2, busy: 2, queued: { interactive: 1, background: 3 } })).toBe('Waiting for a worker: 1 interactive run ahead of this one')
    expect(queuedMessage({ workers: 2, busy: 2, queued: { interactive: 2, background: 0 } })).toContain('2 interactive runs ahead')
  })
})
