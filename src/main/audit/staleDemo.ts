import { existsSync, renameSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { readSidecar } from '@main/engine/modelFiles'
import { Project } from '@main/store/project'

/**
 * A demo project built with another bundled model than the one installed now (the app was updated since): its
 * model row points at the bundled folder, whose files no longer match the hash it was registered with. Such a demo
 * is set aside under a dated name rather than opened, so the app builds the demo again with the model it ships,
 * and nothing the user added to the old one (bookmarks, notes, reports) is lost. Returns where it was kept, or null
 * when the demo is current or holds no model from that folder.
 */
export async function setAsideStaleDemo(projectPath: string, modelDir: string, now = new Date()): Promise<string | null> {
  const path = resolve(projectPath)
  if (!existsSync(path) || !existsSync(modelDir)) return null
  const bundled = (await readSidecar(modelDir)).contentHash
  const project = Project.open(path)
  let stale: boolean
  try {
    const fromFolder = project.models.list().filter((m) => resolve(m.dir) === resolve(modelDir))
    stale = fromFolder.length > 0 && !fromFolder.some((m) => m.contentHash === bundled)
  } finally {
    // The last connection closing checkpoints the WAL, so the file alone holds everything before the rename.
    project.close()
  }
  if (!stale) return null
  const stem = basename(path).replace(/\.ctxlens$/, '')
  const day = now.toISOString().slice(0, 10)
  let kept = join(dirname(path), `${stem}-before-${day}.ctxlens`)
  for (let n = 2; existsSync(kept); n++) kept = join(dirname(path), `${stem}-before-${day}-${n}.ctxlens`)
  renameSync(path, kept)
  for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, kept + suffix)
  return kept
}
