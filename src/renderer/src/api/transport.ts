import type { AnyEvent, Bridge, Reply } from '@common/contract'
import { fromWire, stringifyWire } from '@common/wire'

/**
 * The renderer talks to the same contract over Electron IPC (the preload's bridge) or over HTTP/WebSocket in
 * browser mode. Which one is decided once, here; nothing else in the renderer knows.
 */
export interface Transport extends Bridge {
  kind: 'electron' | 'http'
}

const TOKEN_KEY = 'ctxlens.token'

/** The token arrives once in the page URL; keep it for this tab and take it out of the address bar. */
function browserToken(): string {
  const url = new URL(window.location.href)
  const fromUrl = url.searchParams.get('token')
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl)
    url.searchParams.delete('token')
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash)
    return fromUrl
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? ''
}

function httpTransport(): Transport {
  const token = browserToken()
  const listeners = new Set<(e: AnyEvent) => void>()
  let socket: WebSocket | null = null
  let retry = 0

  const connect = (): void => {
    const ws = new WebSocket(`ws://${window.location.host}/events?token=${encodeURIComponent(token)}`)
    socket = ws
    ws.onmessage = (msg) => {
      const event = JSON.parse(String(msg.data)) as AnyEvent
      listeners.forEach((l) => l(event))
    }
    ws.onopen = () => {
      retry = 0
    }
    // The server may restart (or the laptop sleep); reconnect with a gentle back-off while anyone listens.
    ws.onclose = () => {
      socket = null
      if (listeners.size > 0) setTimeout(connect, Math.min(10_000, 500 * 2 ** retry++))
    }
  }

  return {
    kind: 'http',
    invoke: async (method, input) => {
      try {
        const res = await fetch(`/api/${encodeURIComponent(method)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'x-ctxlens-token': token },
          body: stringifyWire(input ?? {})
        })
        // The same typed arrays as over IPC, so nothing past this line knows which transport it is on.
        return fromWire(await res.json()) as Reply<unknown>
      } catch (err) {
        return { ok: false, error: { code: 'INTERNAL', message: `Cannot reach the Context Lens server: ${(err as Error).message}` } }
      }
    },
    onEvent: (listener) => {
      listeners.add(listener)
      if (!socket) connect()
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0) socket?.close()
      }
    }
  }
}

export function pickTransport(): Transport {
  const bridge = window.ctxlens
  if (bridge) return { kind: 'electron', invoke: bridge.invoke, onEvent: bridge.onEvent }
  return httpTransport()
}
