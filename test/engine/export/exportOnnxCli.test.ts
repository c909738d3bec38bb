import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { buildProgram } from '@main/cli/program'
import { tempDir } from '../../helpers/tempdir'

/**
 * `ctxlens models export-onnx`, parsed and run in-process (the spawned CLI needs ir.ts's onnx-proto import to
 * work under Node's ESM loader, see the exporter's report).
 */
const dir = tempDir()
afterAll(() => dir.cleanup())
const MODEL = join(import.meta.dirname, '../../../resources/benchmark-models/strong-d2-t3')

async function run(...args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number | undefined }> {
  let stdout = ''
  let stderr = ''
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (stdout += `${a.join(' ')}\n`))
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true))
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true))
  const before = process.exitCode
  process.exitCode = undefined
  try {
    await buildProgram('0.0.0').parseAsync(['node', 'ctxlens', ...args])
    return { stdout, stderr, exitCode: process.exitCode as number | undefined }
  } finally {
    process.exitCode = before
    log.mockRestore()
    out.mockRestore()
    err.mockRestore()
  }
}

describe('ctxlens models export-onnx', () => {
  it('writes the same file as the committed export and summarises it', async () => {
    const out = dir.file('strong.onnx')
    const r = await run('models', 'export-onnx', '--model', MODEL, '--out', out, '--json')
    expect(r.exitCode).toBeUndefined()
    const summary = JSON.parse(r.stdout)
    expect(summary).toMatchObject({ file: out, input: 'image', output: 'probabilities' })
    expect(summary.ops.BatchNormalization).toBeUndefined()
    const written = await readFile(out)
    expect(written.equals(await readFile(join(MODEL, 'model.onnx')))).toBe(true)
    expect(summary.bytes).toBe(written.length)
  })

  it('refuses to replace an existing file unless --force, and leaves it as it was', async () => {
    const out = dir.file('existing.onnx')
    const { writeFile } = await import('node:fs/promises')
    await writeFile(out, 'last week')
    const refused = await run('models', 'export-onnx', '--model', MODEL, '--out', out)
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toContain('CONFLICT')
    expect(await readFile(out, 'utf8')).toBe('last week')
    const forced = await run('models', 'export-onnx', '--model', MODEL, '--out', out, '--force', '--json')
    expect(forced.exitCode).toBeUndefined()
    expect((await readFile(out)).equals(await readFile(join(MODEL, 'model.onnx')))).toBe(true)
  })

  it('fails with MODEL_FILE_INVALID naming the missing model.json', async () => {
    const missing = dir.file('nothing-here')
    const r = await run('models', 'export-onnx', '--model', missing, '--out', dir.file('x.onnx'))
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toContain('MODEL_FILE_INVALID')
    expect(r.stderr).toContain(join(missing, 'model.json'))
  })
})
