import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { isMethod, type AnyEvent, type Bridge } from '../common/contract'
import { EVENT_CHANNEL } from '../common/channels'

/**
 * The renderer gets the contract and nothing else: one invoke per declared method and a subscription to push
 * events. No ipcRenderer, no Node, no arbitrary channels.
 */
const bridge: Bridge = {
  invoke: async (method, input) => {
    if (!isMethod(method)) return { ok: false, error: { code: 'UNKNOWN_METHOD', message: `Unknown method "${String(method)}"` } }
    return ipcRenderer.invoke(method, input)
  },
  onEvent: (listener) => {
    const handler = (_e: IpcRendererEvent, event: AnyEvent): void => listener(event)
    ipcRenderer.on(EVENT_CHANNEL, handler)
    return () => {
      ipcRenderer.off(EVENT_CHANNEL, handler)
    }
  }
}

contextBridge.exposeInMainWorld('ctxlens', bridge)
