import { ensureBuilt } from '../helpers/builtApp'

/** The end-to-end tests drive the built app: build it first, unless out/ is already built from these sources. */
export default function setup(): void {
  ensureBuilt()
}
