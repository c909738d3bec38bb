import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { AppError } from '@common/errors'
import { BACKEND_NAMES } from '@common/types'
import { appHome } from './paths'

/**
 * User settings, `~/.context-lens/settings.json` (or `$CTXLENS_HOME/settings.json`). Missing file = defaults;
 * a file that does not parse is an error that names the file, not a silent reset.
 */
export const SettingsSchema = z
  .object({
    /** Force a TensorFlow.js backend; the CLI flag and CTXLENS_BACKEND take precedence. */
    backend: z.enum([...BACKEND_NAMES, 'auto']).default('auto'),
    /** Engine worker threads; default one per core. */
    workers: z.number().int().min(1).max(64).optional()
  })
  .strict()
export type Settings = z.infer<typeof SettingsSchema>

export function settingsPath(): string {
  return join(appHome(), 'settings.json')
}

export function readSettings(path = settingsPath()): Settings {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return SettingsSchema.parse({})
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new AppError('INVALID_PARAMETERS', `Settings file ${path} is not valid JSON: ${(err as Error).message}`, { path })
  }
  const parsed = SettingsSchema.safeParse(json)
  if (!parsed.success) {
    throw new AppError('INVALID_PARAMETERS', `Settings file ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
      path
    })
  }
  return parsed.data
}
