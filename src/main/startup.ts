import { existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { AppError } from '@common/errors'
import type { Dispatch } from './services/dispatch'

/** Open the project file given on the command line, creating it when it does not exist yet. */
export async function openOrCreateProject(dispatch: Dispatch, path: string): Promise<void> {
  if (!existsSync(path)) mkdirSync(dirname(path), { recursive: true })
  const reply = await dispatch(existsSync(path) ? 'project:open' : 'project:create', { path })
  if (!reply.ok) throw AppError.fromShape(reply.error)
}
