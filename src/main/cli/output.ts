import { toErrorShape } from '@common/errors'
import { stringifyWire } from '@common/wire'

/** Typed arrays in a result print as the wire codec's tagged base64, the form the HTTP API uses. */
export function printJson(value: unknown): void {
  process.stdout.write(stringifyWire(value, 2) + '\n')
}

/** Errors go to stderr with their stable code, as JSON when the caller asked for JSON. */
export function printError(err: unknown, json: boolean): void {
  const shape = toErrorShape(err)
  if (json) process.stderr.write(JSON.stringify({ ok: false, error: shape }, null, 2) + '\n')
  else process.stderr.write(`ctxlens: error [${shape.code}] ${shape.message}\n`)
}

export function table(rows: (string | number)[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? '').length))) ?? []
  return rows.map((r) => r.map((cell, c) => String(cell).padEnd(widths[c])).join('  ').trimEnd()).join('\n')
}
