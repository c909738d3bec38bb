import { z } from 'zod'

/**
 * Absolute on the platform that checks it: `/…` on POSIX; `C:\…`, `C:/…` or a UNC share on Windows (a bare `\…`
 * hangs off whichever drive is current, so it is not). The renderer has no platform to go by and lets either form
 * through; the main process checks every payload again with its own.
 */
export function isAbsolutePath(path: string): boolean {
  const platform = (globalThis as { process?: { platform?: string } }).process?.platform
  const posix = path.startsWith('/')
  const windows = /^[A-Za-z]:[\\/]/.test(path) || /^[\\/]{2}[^\\/]/.test(path)
  if (platform === undefined) return posix || windows
  return platform === 'win32' ? windows : posix
}

export const RELATIVE_PATH_HINT = 'a relative path would be resolved against the folder the app or server was started from, not yours'

/**
 * Every path a service method takes. A relative path would be resolved against the working folder of the process
 * that serves the call (browser mode's server, the desktop app), which the caller neither sees nor chose, so a file
 * could land anywhere; the services take absolute paths only. The CLI resolves what its user types against the
 * shell's folder before calling (src/main/cli/argParsers.ts). `what` names the field for the message.
 */
export function absolutePath(what: string) {
  return z
    .string()
    .min(1, `${what} is required`)
    .refine(isAbsolutePath, { error: (issue) => `${what} must be an absolute path, and ${JSON.stringify(issue.input)} is not (${RELATIVE_PATH_HINT})` })
}
