/**
 * JSON text parsed, with a failure described by where it is, never by what is there. V8's own messages quote the
 * text ("Unexpected token 'r', "root:x:0:0"... is not valid JSON"), and an error about a file names the file and
 * the problem, not its content: a path given by mistake (or on purpose, over the HTTP API) may name any file, and
 * errors end up in logs, reports and other people's screens.
 */
export type JsonText = { ok: true; value: unknown } | { ok: false; problem: string }

/** Line and column (1-based) of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return { line, column: offset - before.lastIndexOf('\n') }
}

export function parseJsonText(text: string): JsonText {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (err) {
    return { ok: false, problem: jsonProblem(text, err) }
  }
}

/** "not valid JSON", and where when the parser says so; phrased to follow a file name. */
function jsonProblem(text: string, err: unknown): string {
  if (text.trim() === '') return 'is empty, not JSON'
  const message = err instanceof Error ? err.message : ''
  if (/Unexpected end of JSON input/i.test(message)) return 'is not valid JSON: it ends before the JSON does'
  const position = /at position (\d+)/.exec(message)
  if (position) {
    const { line, column } = lineColumn(text, Number(position[1]))
    return `is not valid JSON: syntax error at line ${line}, column ${column}`
  }
  return 'is not valid JSON'
}
