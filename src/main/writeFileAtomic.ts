import { constants } from 'node:fs'
import { copyFile, link, rename, unlink, writeFile } from 'node:fs/promises'
import { threadId } from 'node:worker_threads'

let sequence = 0

/**
 * Replaces a file in one step: a crash or error mid-write never leaves a half-written file under the final name
 * (a reader sees the old content or the new, never part of it). The temporary name carries the pid, the thread
 * (engine workers share the pid, each with its own counter) and a counter, so concurrent writers never share one.
 *
 * With `overwrite: false` an existing file is never replaced, even one that appeared after the caller checked:
 * the content goes in by a hard link, which fails with EEXIST where rename would replace. Where the file system
 * has no hard links (FAT, exFAT, some network shares), an exclusive copy does the same without the atomicity.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: { overwrite?: boolean } = {}): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${threadId}-${++sequence}`
  try {
    await writeFile(tmp, data)
    if (options.overwrite === false) await placeWithoutReplacing(tmp, path)
    else await rename(tmp, path)
  } finally {
    await unlink(tmp).catch(() => undefined)
  }
}

async function placeWithoutReplacing(tmp: string, path: string): Promise<void> {
  try {
    await link(tmp, path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err
    await copyFile(tmp, path, constants.COPYFILE_EXCL)
  }
}
