import { describe, expect, it } from 'vitest'
import { isAppError } from '@common/errors'
import { cancelledError, throwIfAborted, yieldToEventLoop } from '@main/cancellation'

describe('cancellation', () => {
  it('throws AppError CANCELLED with the caller’s message once aborted, and nothing before', () => {
    const c = new AbortController()
    expect(() => throwIfAborted(c.signal, 'street-scene generation cancelled')).not.toThrow()
    expect(() => throwIfAborted(undefined)).not.toThrow()
    c.abort()
    let thrown: unknown
    try {
      throwIfAborted(c.signal, 'street-scene generation cancelled')
    } catch (err) {
      thrown = err
    }
    expect(isAppError(thrown, 'CANCELLED')).toBe(true)
    expect((thrown as Error).message).toBe('street-scene generation cancelled')
    expect(cancelledError().message).toBe('The task was cancelled')
  })

  it('yieldToEventLoop lets queued macrotasks run (an abort from a message or timer), which a microtask would not', async () => {
    const viaMicrotask = new AbortController()
    setImmediate(() => viaMicrotask.abort())
    await Promise.resolve()
    expect(viaMicrotask.signal.aborted).toBe(false)

    const c = new AbortController()
    setImmediate(() => c.abort())
    await yieldToEventLoop()
    expect(c.signal.aborted).toBe(true)
  })
})
