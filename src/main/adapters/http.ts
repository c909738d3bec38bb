import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createReadStream, existsSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, sep } from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Reply } from '@common/contract'
import type { ErrorCode } from '@common/errors'
import { parseJsonText } from '@common/jsonText'
import { fromWire, stringifyWire } from '@common/wire'
import { CONTENT_SECURITY_POLICY, fromOwnOrigin, LOOPBACK_NAMES } from '../security'
import type { Dispatch } from '../services/dispatch'
import type { EventBus } from '../services/events'

export interface HttpServerOptions {
  dispatch: Dispatch
  events: EventBus
  /** The built renderer (index.html and assets). */
  rendererDir: string
  port?: number
  token?: string
  maxBodyBytes?: number
}

export interface RunningServer {
  url: string
  port: number
  token: string
  close(): Promise<void>
}

const HOST = '127.0.0.1'
const TOKEN_COOKIE = 'ctxlens_token'
const TOKEN_HEADER = 'x-ctxlens-token'

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.ico': 'image/x-icon'
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer', // the token travels in the first URL; keep it out of Referer headers
  'Cache-Control': 'no-store',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Content-Security-Policy': CONTENT_SECURITY_POLICY
}

function sameToken(expected: string, given: string | undefined | null): boolean {
  if (!given) return false
  const a = Buffer.from(expected)
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** A request the server cannot make sense of: answered with its status, never as an internal error. */
class BadRequest extends Error {}

function decoded(text: string, what: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw new BadRequest(`The ${what} is not valid percent-encoding (a % must be followed by two hex digits)`)
  }
}

function requestUrl(req: IncomingMessage, port: number): URL {
  try {
    return new URL(req.url ?? '/', `http://${HOST}:${port}`)
  } catch {
    throw new BadRequest('The request target is not a URL path')
  }
}

function cookieToken(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie ?? ''
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=')
    // A mangled cookie is simply no token (401), not a failure of the server.
    if (k === TOKEN_COOKIE) {
      try {
        return decodeURIComponent(v.join('='))
      } catch {
        return undefined
      }
    }
  }
  return undefined
}

const FOREIGN_ORIGIN = 'Refused: this request comes from another web page (Origin or Sec-Fetch-Site), not from the Context Lens page'

/** Replies carry typed arrays (saliency maps, label planes): JSON gets them as the wire codec's tagged base64. */
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8' })
  res.end(stringifyWire(body))
}

function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string, details?: unknown): void {
  const reply: Reply<never> = { ok: false, error: details === undefined ? { code, message } : { code, message, details } }
  sendJson(res, status, reply)
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolveBody, reject) => {
    let size = 0
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        reject(new Error(`request body larger than ${limit} bytes`))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** HTTP status for an error code: the shape carries the detail, the status lets generic tools react. */
function statusFor(code: ErrorCode): number {
  switch (code) {
    case 'INVALID_PAYLOAD':
    case 'INVALID_PARAMETERS':
    case 'EMPTY_REQUEST_MASK':
    case 'REQUEST_SIZE_MISMATCH':
      return 400
    case 'UNAUTHORIZED':
      return 401
    case 'NOT_FOUND':
    case 'UNKNOWN_METHOD':
    case 'JOB_NOT_FOUND':
      return 404
    case 'CONFLICT':
    case 'NO_PROJECT_OPEN':
    case 'JOB_STATE':
      return 409
    case 'INTERNAL':
    case 'WORKER_CRASHED':
      return 500
    default:
      return 422
  }
}

/**
 * Browser mode: the built renderer and the service contract on 127.0.0.1 only. Every request carries the token
 * (the first page load in its query, which is turned into a same-site cookie; API calls in a header); the Host
 * header must name this server, which stops DNS-rebinding pages from reaching it; and a request a browser marks as
 * coming from another page (`Origin`, `Sec-Fetch-Site`) is refused, since pages on other local ports are the same
 * site and get the cookie sent along (see `fromOwnOrigin`).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(24).toString('hex')
  const maxBody = options.maxBodyBytes ?? 64 * 1024 * 1024
  let port = 0

  const hostAllowed = (req: IncomingMessage): boolean => {
    const host = req.headers.host ?? ''
    return LOOPBACK_NAMES.some((name) => host === `${name}:${port}`)
  }

  const server = createServer(async (req, res) => {
    try {
      if (!hostAllowed(req)) return sendError(res, 403, 'UNAUTHORIZED', 'This server only answers requests addressed to 127.0.0.1')
      if (!fromOwnOrigin(req.headers, port)) return sendError(res, 403, 'UNAUTHORIZED', FOREIGN_ORIGIN)
      const url = requestUrl(req, port)

      if (url.pathname.startsWith('/api/')) {
        if (!sameToken(token, req.headers[TOKEN_HEADER] as string | undefined) && !sameToken(token, cookieToken(req))) {
          return sendError(res, 401, 'UNAUTHORIZED', 'Missing or wrong access token; open the URL that `npm run serve` printed')
        }
        if (req.method !== 'POST') return sendError(res, 405, 'INVALID_PAYLOAD', 'API calls are POST requests with a JSON body')
        const method = decoded(url.pathname.slice('/api/'.length), 'method name')
        let text: string
        try {
          text = await readBody(req, maxBody)
        } catch (err) {
          return sendError(res, 413, 'INVALID_PAYLOAD', `Request body refused: ${(err as Error).message}`)
        }
        const body = text.trim() === '' ? ({ ok: true, value: {} } as const) : parseJsonText(text)
        if (!body.ok) return sendError(res, 400, 'INVALID_PAYLOAD', `The request body ${body.problem}`)
        let input: unknown
        try {
          input = fromWire(body.value)
        } catch (err) {
          return sendError(res, 400, 'INVALID_PAYLOAD', `The request body carries a typed array the wire codec cannot read: ${(err as Error).message}`)
        }
        const reply = await options.dispatch(method, input)
        return sendJson(res, reply.ok ? 200 : statusFor(reply.error.code), reply)
      }

      // Static renderer files. The token may arrive in the query (first load) or the cookie (everything after).
      const queryToken = url.searchParams.get('token')
      const authorised = sameToken(token, queryToken) || sameToken(token, cookieToken(req))
      if (!authorised) {
        res.writeHead(401, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' })
        return res.end('Context Lens: missing or wrong access token. Open the URL printed by `npm run serve`.')
      }
      const relative = url.pathname === '/' ? 'index.html' : decoded(url.pathname, 'request path').replace(/^\/+/, '')
      const file = normalize(join(options.rendererDir, relative))
      const inside = file.startsWith(normalize(options.rendererDir) + sep)
      // Client-side routes (history mode) fall back to index.html.
      const target = inside && existsSync(file) && statSync(file).isFile() ? file : join(options.rendererDir, 'index.html')
      if (!existsSync(target)) return sendError(res, 404, 'NOT_FOUND', `The renderer is not built (${options.rendererDir}); run npm run build`)
      const headers: Record<string, string> = { ...SECURITY_HEADERS, 'Content-Type': MIME[extname(target)] ?? 'application/octet-stream' }
      if (queryToken) headers['Set-Cookie'] = `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`
      res.writeHead(200, headers)
      createReadStream(target).pipe(res)
    } catch (err) {
      if (err instanceof BadRequest) sendError(res, 400, 'INVALID_PAYLOAD', err.message)
      else sendError(res, 500, 'INTERNAL', (err as Error).message)
    }
  })

  const wss = new WebSocketServer({ noServer: true })
  const sockets = new Set<WebSocket>()
  server.on('upgrade', (req, socket, head) => {
    const refuse = (status: string): void => {
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`)
      socket.destroy()
    }
    // A throw here would be an uncaught exception and take the server down.
    let url: URL
    try {
      url = requestUrl(req, port)
    } catch {
      return refuse('400 Bad Request')
    }
    // Browsers send Origin with every WebSocket handshake, and the cookie to any same-site page's socket.
    if (!hostAllowed(req) || !fromOwnOrigin(req.headers, port)) return refuse('403 Forbidden')
    const authorised = url.pathname === '/events' && (sameToken(token, url.searchParams.get('token')) || sameToken(token, cookieToken(req)))
    if (!authorised) return refuse('401 Unauthorized')
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      ws.on('close', () => sockets.delete(ws))
      // The event channel is one-way; anything a client sends is ignored rather than trusted.
      ws.on('message', () => undefined)
    })
  })
  const unsubscribe = options.events.subscribe((event) => {
    const text = JSON.stringify(event)
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text)
  })

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, HOST, () => resolveListen())
  })
  port = (server.address() as AddressInfo).port

  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      unsubscribe()
      for (const ws of sockets) ws.terminate()
      wss.close()
      await new Promise<void>((r) => server.close(() => r()))
    }
  }
}
