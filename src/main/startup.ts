import { existsSync, mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { AppError } from '@common/errors'
import { setAsideStaleDemo } from './audit/staleDemo'
import { defaultDemoModelDir, demoProjectPath } from './paths'
import type { Dispatch } from './services/dispatch'
import type { EventBus } from './services/events'

/**
 * Open the project file given on the command line, creating it when it does not exist yet. A relative path means
 * the shell's folder, as the user typed it; the services take absolute paths only.
 */
export async function openOrCreateProject(dispatch: Dispatch, given: string): Promise<void> {
  const path = resolve(given)
  if (!existsSync(path)) mkdirSync(dirname(path), { recursive: true })
  const reply = await dispatch(existsSync(path) ? 'project:open' : 'project:create', { path })
  if (!reply.ok) throw AppError.fromShape(reply.error)
}

/**
 * The desktop app's first start: the demo project when it exists; otherwise it is built (street scenes, the
 * bundled model, predictions and a context-saliency audit) in the background while the window opens, with
 * progress in the Jobs screen. A demo built with an earlier bundled model is set aside first (setAsideStaleDemo).
 * An explicit CTXLENS_PROJECT is opened or created as it is.
 */
export async function openStartupProject(dispatch: Dispatch, events: EventBus): Promise<string> {
  const explicit = process.env.CTXLENS_PROJECT
  const path = resolve(explicit ?? demoProjectPath())
  if (!explicit) {
    const kept = await setAsideStaleDemo(path, defaultDemoModelDir())
    if (kept) events.log('info', `The bundled demo model changed since the demo project was built: the previous demo is kept as ${kept}`)
  }
  if (explicit || existsSync(path) || !existsSync(defaultDemoModelDir())) {
    await openOrCreateProject(dispatch, path)
    return path
  }
  events.log('info', `Building the demo project at ${path} (first start)`)
  void dispatch('audit:demo', { projectPath: path }).then((reply) => {
    if (reply.ok) events.log('info', `Demo project ready: ${path}`)
    else events.log('error', `Could not build the demo project: ${reply.error.message} [${reply.error.code}]`)
  })
  return path
}
