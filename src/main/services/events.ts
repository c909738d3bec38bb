import { EventEmitter } from 'node:events'
import type { AnyEvent, EventName, EventPayload } from '@common/contract'

/** Push events from services to whichever adapters are listening (IPC window, WebSocket clients, CLI bars). */
export class EventBus {
  private readonly emitter = new EventEmitter()

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    this.emitter.emit('event', { event, payload } as AnyEvent)
  }

  log(level: EventPayload<'log'>['level'], message: string): void {
    this.emit('log', { level, message, time: new Date().toISOString() })
  }

  subscribe(listener: (e: AnyEvent) => void): () => void {
    this.emitter.on('event', listener)
    return () => this.emitter.off('event', listener)
  }
}
