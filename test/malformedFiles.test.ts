import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isAppError } from '@common/errors'
import { readBenchmarkConfig } from '@main/benchmark'
import { importDataset } from '@main/datasets/import/importer'
import { readSidecar } from '@main/engine/modelFiles'
import { readModelJson } from '@main/engine/modelFiles/fsHandler'
import { loadCheckpoint } from '@main/engine/training/checkpoint'
import { readModelDescription } from '@main/modelImport'
import { readSettings } from '@main/settings'
import { Project } from '@main/store/project'
import { tempDir } from './helpers/tempdir'

const dir = tempDir()
afterAll(() => dir.cleanup())

/** What a wrong path hands a reader: a text file whose first line V8's JSON error would quote. */
const SECRET = 'hunter2'
const passwdLike = `${SECRET}:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n`

function place(relative: string, text: string): string {
  const path = join(dir.path, relative)
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, text)
  return path
}

async function failure(run: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await run().then(
    () => null,
    (e: unknown) => e
  )
  if (!isAppError(err)) throw new Error(`expected an AppError, got ${String(err)}`)
  return { code: err.code, message: err.message }
}

describe('errors about a file that is not what it should be', () => {
  const cases: { reader: string; path: string; code: string; run: () => Promise<unknown> }[] = [
    (() => {
      const path = place('config/passwd.json', passwdLike)
      return { reader: 'benchmark config', path, code: 'INVALID_PARAMETERS', run: () => readBenchmarkConfig(path) }
    })(),
    (() => {
      const path = place('config/settings.json', passwdLike)
      return { reader: 'settings file', path, code: 'INVALID_PARAMETERS', run: async () => readSettings(path) }
    })(),
    (() => {
      const path = place('tfjs/model.json', passwdLike)
      return { reader: 'tfjs model.json', path, code: 'MODEL_FILE_INVALID', run: () => readModelJson(path) }
    })(),
    (() => {
      const path = place('sidecar/ctxlens.model.json', passwdLike)
      return { reader: 'model sidecar', path, code: 'MODEL_FILE_INVALID', run: () => readSidecar(join(dir.path, 'sidecar')) }
    })(),
    (() => {
      const path = place('onnx/net.onnx.ctxlens.json', passwdLike)
      return { reader: 'ONNX description', path, code: 'MODEL_FILE_INVALID', run: () => readModelDescription(join(dir.path, 'onnx', 'net.onnx')) }
    })(),
    (() => {
      const path = place('checkpoint/state.json', passwdLike)
      // The state is read before the model and optimizer are touched.
      return { reader: 'training checkpoint', path, code: 'INVALID_PARAMETERS', run: () => loadCheckpoint(join(dir.path, 'checkpoint'), null as never, null as never) }
    })(),
    (() => {
      const root = join(dir.path, 'dataset')
      const path = place('dataset/classes.json', passwdLike)
      mkdirSync(join(root, 'images'), { recursive: true })
      mkdirSync(join(root, 'labels'), { recursive: true })
      return {
        reader: "a folder dataset's classes.json",
        path,
        code: 'DATASET_INVALID',
        run: async () => {
          const project = Project.create(join(dir.path, 'import.ctxlens'), 'import')
          try {
            return await importDataset(project, { format: 'folder', root })
          } finally {
            project.close()
          }
        }
      }
    })()
  ]

  it.each(cases)('$reader: names the file and says it is not JSON, without quoting it', async ({ path, code, run }) => {
    const err = await failure(run)
    expect(err.code).toBe(code)
    expect(err.message).toContain(path)
    expect(err.message).toMatch(/is not valid JSON/)
    expect(err.message).not.toContain(SECRET)
    expect(err.message).not.toContain('root:')
  })

  it('says where the JSON breaks when it can, still without quoting it', async () => {
    const path = place('config/broken.json', `{\n  "name": "${SECRET}",\n  "data": `)
    const err = await failure(() => readBenchmarkConfig(path))
    expect(err.message).toBe(`benchmark config ${path} is not valid JSON: it ends before the JSON does`)
    const comma = place('config/comma.json', `{\n  "name": "${SECRET}" "data": 1\n}`)
    expect((await failure(() => readBenchmarkConfig(comma))).message).toBe(`benchmark config ${comma} is not valid JSON: syntax error at line 2, column 21`)
    const empty = place('config/empty.json', '\n')
    expect((await failure(() => readBenchmarkConfig(empty))).message).toBe(`benchmark config ${empty} is empty, not JSON`)
  })

  it('names the field, not the value, when the JSON is fine but the content is not', async () => {
    const path = place('config/wrong.json', JSON.stringify({ data: SECRET, training: [SECRET] }))
    const err = await failure(() => readBenchmarkConfig(path))
    expect(err.message).toMatch(/data: .*training: /)
    expect(err.message).not.toContain(SECRET)
  })
})
