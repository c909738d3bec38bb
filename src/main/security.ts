/**
 * One Content-Security-Policy for the Electron window (as a header) and browser mode (the same text sits in the
 * renderer's index.html meta tag): only our own scripts, no eval, no remote anything.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self' ws://127.0.0.1:*",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

/** The host names browser mode answers to: the page may have been opened as 127.0.0.1 or as localhost. */
export const LOOPBACK_NAMES = ['127.0.0.1', 'localhost'] as const

/**
 * Whether a browser-mode request may come from where it says it comes from. The token cookie is SameSite=Strict,
 * but every port on 127.0.0.1 is the same site, so a page served by any other local program (a notebook, a dev
 * server) would get the cookie sent along with its requests. The browser's own account of the request settles it:
 * an `Origin` must be this server's, and `Sec-Fetch-Site` must not say another site (same-site included). Requests
 * that carry neither (the CLI, curl, scripts with the token) are not from a page, and the token alone decides.
 */
export function fromOwnOrigin(headers: { origin?: string; 'sec-fetch-site'?: string | string[] }, port: number): boolean {
  const site = headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false
  const origin = headers.origin
  if (origin === undefined) return true
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    // 'null' (a sandboxed frame, a file:// page) or anything else that names no origin of ours.
    return false
  }
  const urlPort = url.port === '' ? 80 : Number(url.port)
  return url.protocol === 'http:' && (LOOPBACK_NAMES as readonly string[]).includes(url.hostname) && urlPort === port && url.origin === origin
}
