import { rename, unlink, writeFile } from 'node:fs/promises'
import { threadId } from 'node:worker_threads'

let sequence = 0

/**
 * Replaces a file in one step: a crash or error mid-write never leaves a half-written file under the final name
 * (a reader sees the old content or the new, never part of it). The temporary name carries the pid, the thread
 * (engine workers share the pid, each with its own counter) and a counter, so concurrent writers never share one.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${threadId}-${++sequence}`
  try {
    await writeFile(tmp, data)
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => undefined)
    throw err
  }
}
