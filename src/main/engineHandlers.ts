import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { appRoot, isBundled } from './paths'

/**
 * The handler modules every engine worker loads besides the engine's own: work built on the engine registers its
 * task handlers here, so the engine hosts them without importing them. Each module exports `handlers` and sees
 * only the handler seam (engine/pool/handler.ts, protocol.ts).
 *
 * Each is a file a worker can import by itself: from sources, the TypeScript module (the worker runs it through
 * tsx); in the built app, its own bundle entry in out/main (electron.vite.config.ts), since a worker thread cannot
 * reach a module inlined into another entry.
 */
const REGISTERED: { entry: string; source: string }[] = [{ entry: 'saliency-handler', source: 'saliency/handler.ts' }]

export function engineHandlerModules(): string[] {
  // The concatenation keeps bundlers from resolving (and inlining) the module at build time.
  return REGISTERED.map((h) => (isBundled ? join(appRoot(), 'out', 'main', `${h.entry}.js`) : fileURLToPath(new URL('./' + h.source, import.meta.url))))
}
