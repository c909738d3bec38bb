import type { Bridge } from '../common/contract'

declare global {
  interface Window {
    /** Present only inside the Electron window (set by the preload); browser mode talks HTTP instead. */
    ctxlens?: Bridge
  }
}

export {}
