import { constants } from 'node:fs'
import { access, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { AppError } from '@common/errors'
import { writeFileAtomic } from '../writeFileAtomic'

/**
 * A file a service writes where its caller said (a report, exported statistics). An existing file is not
 * replaced unless the caller says so: a typo in a path must not silently destroy last week's report. The desktop
 * save dialog has asked the user already; the CLI asks for --force.
 */
export interface OutputFile {
  path: string
  /** What is written, for messages: 'the report', 'the statistics'. */
  what: string
  overwrite: boolean
}

function refuseExisting({ path, what }: OutputFile): AppError {
  return new AppError('CONFLICT', `Not writing ${what} to ${path}: the file exists. Choose another name, or replace it on purpose (overwrite: true; ctxlens --force)`, {
    path
  })
}

/** Fails before minutes of work, with what is wrong, rather than after it with an errno. */
export async function checkOutputFile(out: OutputFile): Promise<void> {
  const { path, what } = out
  const dir = dirname(path)
  const info = await stat(dir).catch(() => null)
  if (!info?.isDirectory()) throw new AppError('INVALID_PARAMETERS', `Cannot write ${what} to ${path}: the folder ${dir} does not exist`, { path })
  const existing = await stat(path).catch(() => null)
  if (existing?.isDirectory()) throw new AppError('INVALID_PARAMETERS', `Cannot write ${what} to ${path}: it is a folder; give a file name`, { path })
  if (existing && !out.overwrite) throw refuseExisting(out)
  try {
    await access(dir, constants.W_OK)
  } catch {
    throw new AppError('INVALID_PARAMETERS', `Cannot write ${what} to ${path}: no permission to write in ${dir}`, { path })
  }
}

/** Atomic, so a failure never leaves half a file under its name; and still no replacing a file that appeared meanwhile. */
export async function writeOutputFile(out: OutputFile, data: string | Uint8Array): Promise<void> {
  try {
    await writeFileAtomic(out.path, data, { overwrite: out.overwrite })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw refuseExisting(out)
    throw new AppError('INVALID_PARAMETERS', `Cannot write ${out.what} to ${out.path}: ${(err as Error).message}`, { path: out.path })
  }
}
