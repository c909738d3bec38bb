import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { AppError } from '@common/errors'
import { parseJsonText } from '@common/jsonText'
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
  const json = parseJsonText(text)
  if (!json.ok) throw new AppError('INVALID_PARAMETERS', `Settings file ${path} ${json.problem}`, { path })
  const parsed = SettingsSchema.safeParse(json.value)
  if (!parsed.success) {
    throw new AppError('INVALID_PARAMETERS', `Settings file ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
      path
    })
  }
  return parsed.data
}
