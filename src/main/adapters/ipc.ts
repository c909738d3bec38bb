import { METHODS } from '@common/contract'
import type { Dispatch } from '../services/dispatch'

/** The slice of Electron's ipcMain the adapter needs, so it can be tested without Electron. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: { senderFrame?: { url: string } | null }, input: unknown) => unknown): void
  removeHandler(channel: string): void
}

/**
 * One handler per contract method, on a channel of the method's own name. Calls from frames we did not load
 * (a navigated-away or injected frame) are refused before the payload is even looked at.
 */
export function registerIpcHandlers(ipcMain: IpcMainLike, dispatch: Dispatch, isTrustedFrame: (url: string) => boolean): () => void {
  for (const method of METHODS) {
    ipcMain.handle(method, async (event, input) => {
      const url = event.senderFrame?.url ?? ''
      if (!isTrustedFrame(url)) {
        return { ok: false, error: { code: 'UNAUTHORIZED', message: `IPC call from an untrusted frame (${url || 'unknown'})` } }
      }
      return dispatch(method, input)
    })
  }
  return () => METHODS.forEach((m) => ipcMain.removeHandler(m))
}
