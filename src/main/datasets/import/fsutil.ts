import { readdir, stat } from 'node:fs/promises'
import { sep } from 'node:path'
import type { ImportIssue } from '@common/datasets'

/**
 * An entry whose name is not valid UTF-8. Node would hand it over with U+FFFD in place of the bad bytes, a name
 * no file has (ENOENT later), and the project stores paths as text; so such entries are reported, not listed.
 */
export interface UndecodableName {
  /** The name with each byte that is not part of a UTF-8 character written as \xNN. */
  shown: string
  /** The name's bytes, for a Buffer path (the file system takes those). */
  raw: Buffer
  isDir: boolean
}

export interface Listing {
  files: string[]
  dirs: string[]
  undecodable: UndecodableName[]
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function decodeName(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    return null
  }
}

/** A file name's bytes as text: UTF-8 characters as themselves, every other byte as \xNN. */
export function showName(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  while (i < bytes.length) {
    let char: string | null = null
    let len = 1
    // The shortest prefix that decodes is one whole character (UTF-8 characters are 1–4 bytes).
    for (; len <= 4 && i + len <= bytes.length; len++) if ((char = decodeName(bytes.subarray(i, i + len))) !== null) break
    if (char !== null) {
      out += char
      i += len
    } else {
      out += `\\x${bytes[i].toString(16).padStart(2, '0')}`
      i++
    }
  }
  return out
}

/** Entries of a folder, sorted for a stable import order; a missing folder has none. */
export async function listDir(dir: string): Promise<Listing> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return { files: [], dirs: [], undecodable: [] }
    throw err
  }
  const files: string[] = []
  const dirs: string[] = []
  const undecodable: UndecodableName[] = []
  for (const e of entries) {
    const isDir = e.isDirectory()
    if (!isDir && !e.isFile() && !e.isSymbolicLink()) continue
    const name = decodeName(e.name)
    if (name === null) {
      if (e.name[0] !== 0x2e) undecodable.push({ shown: showName(e.name), raw: e.name, isDir })
      continue
    }
    if (name.startsWith('.')) continue
    ;(isDir ? dirs : files).push(name)
  }
  files.sort()
  dirs.sort()
  undecodable.sort((a, b) => (a.shown < b.shown ? -1 : a.shown > b.shown ? 1 : 0))
  return { files, dirs, undecodable }
}

/**
 * One IMAGE_UNREADABLE issue per undecodable entry of `dirRel` that the reader would have used: files for which
 * `wantFile` holds (an image or label by its suffix) and, when `dirsHoldData`, sub-folders.
 */
export function undecodableIssues(dirRel: string, entries: UndecodableName[], wantFile: (shown: string) => boolean, dirsHoldData = false): ImportIssue[] {
  const issues: ImportIssue[] = []
  for (const u of entries) {
    if (u.isDir ? !dirsHoldData : !wantFile(u.shown)) continue
    issues.push({
      kind: 'IMAGE_UNREADABLE',
      file: dirRel ? rel(dirRel, u.shown) : u.shown,
      message: u.isDir
        ? 'folder name is not valid UTF-8 (bytes shown as \\xNN); nothing in it was imported: rename the folder'
        : 'file name is not valid UTF-8 (bytes shown as \\xNN); not imported: rename the file',
      imported: false
    })
  }
  return issues
}

export async function isDir(path: string | Buffer): Promise<boolean> {
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

/** dir/name/...rest as a Buffer path, for a name that is not valid UTF-8. */
export const rawPath = (dir: string, name: Buffer, ...rest: string[]): Buffer =>
  Buffer.concat([Buffer.from(dir + sep), name, ...rest.map((r) => Buffer.from(sep + r))])

/** Paths stored in the project use forward slashes on every platform. */
export const rel = (...parts: string[]): string => parts.join('/')

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff']

export function splitExt(file: string): { base: string; ext: string } {
  const dot = file.lastIndexOf('.')
  return dot <= 0 ? { base: file, ext: '' } : { base: file.slice(0, dot), ext: file.slice(dot).toLowerCase() }
}
