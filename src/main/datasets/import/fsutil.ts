import { readdir, stat } from 'node:fs/promises'

/** Entries of a folder, sorted for a stable import order; a missing folder has none. */
export async function listDir(dir: string): Promise<{ files: string[]; dirs: string[] }> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return { files: [], dirs: [] }
    throw err
  }
  const files: string[] = []
  const dirs: string[] = []
  for (const e of entries) {
    if (e.name.startsWith('.')) continue
    if (e.isDirectory()) dirs.push(e.name)
    else if (e.isFile() || e.isSymbolicLink()) files.push(e.name)
  }
  files.sort()
  dirs.sort()
  return { files, dirs }
}

export async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

/** Paths stored in the project use forward slashes on every platform. */
export const rel = (...parts: string[]): string => parts.join('/')

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff']

export function splitExt(file: string): { base: string; ext: string } {
  const dot = file.lastIndexOf('.')
  return dot <= 0 ? { base: file, ext: '' } : { base: file.slice(0, dot), ext: file.slice(dot).toLowerCase() }
}
