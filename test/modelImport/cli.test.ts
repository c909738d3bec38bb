import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contentHash } from '../../src/main/engine/modelFiles'
import { saveConvModel } from '../audit/fixtures/data'
import { builtCli } from '../helpers/builtApp'
import { tempDir } from '../helpers/tempdir'
import { writeTinyOnnx } from './onnxFixtures'

/** `ctxlens models …` and `explain --model FILE.onnx` as a user runs them: a real CLI process, real files, a real project. */
const dir = tempDir()
const cliEntry = builtCli()
const project = dir.file('models.ctxlens')

function ctxlens(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliEntry, ...args], {
      env: { ...process.env, CTXLENS_BACKEND: 'cpu', CTXLENS_WORKERS: '1', CTXLENS_HOME: dir.path }
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The JSON error a --json command prints on stderr (tfjs may print its banner before it). */
const errorOf = (r: { stderr: string }): { code: string; message: string } => JSON.parse(r.stderr.slice(r.stderr.indexOf('{\n  "ok"'))).error

beforeAll(async () => {
  const created = await ctxlens('project', 'create', project)
  expect(created.code, created.stderr).toBe(0)
}, 60_000)
afterAll(() => dir.cleanup())

describe('ctxlens models with an .onnx file', () => {
  it('inspects, describes once, adds, lists and shows', async () => {
    const onnx = writeTinyOnnx(dir.file('city.onnx'), { classes: 19, height: 16, width: 32 })

    const inspected = await ctxlens('models', 'inspect', '--model', onnx, '--json')
    expect(inspected.code, inspected.stderr).toBe(0)
    const i = JSON.parse(inspected.stdout)
    expect(i.inspection).toMatchObject({ layout: 'NCHW', layoutSource: 'graph', inputShape: [1, 3, 16, 32], outputShape: [1, 19, 16, 32] })
    expect(i.missing).toEqual(['classes', 'normalise'])
    expect(existsSync(`${onnx}.ctxlens.json`)).toBe(false)

    const described = await ctxlens('models', 'describe', '--model', onnx, '--classes', 'cityscapes', '--normalise', 'imagenet', '--json')
    expect(described.code, described.stderr).toBe(0)
    const sidecar = JSON.parse(readFileSync(`${onnx}.ctxlens.json`, 'utf8'))
    expect(sidecar.contentHash).toBe(createHash('sha256').update(readFileSync(onnx)).digest('hex'))

    // Described once: adding needs only the file.
    const added = await ctxlens('models', 'add', '--project', project, '--model', onnx, '--json')
    expect(added.code, added.stderr).toBe(0)
    const model = JSON.parse(added.stdout)
    expect(model).toMatchObject({ name: 'city', modelFormat: 'onnx', input: { height: 16, width: 32, channels: 3 } })
    expect(model.classes).toHaveLength(19)

    const listed = await ctxlens('models', 'list', '--project', project)
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toMatch(/city\s+onnx\s+16×32×3\s+19\s+imagenet/)

    const shown = await ctxlens('models', 'show', '--project', project, '--model', String(model.id), '--json')
    expect(shown.code, shown.stderr).toBe(0)
    expect(JSON.parse(shown.stdout)).toMatchObject({ description: { modelFormat: 'onnx', layout: 'NCHW', output: 'probabilities' }, descriptionError: null })
  }, 120_000)

  it('models add describes an undescribed file from the flags', async () => {
    const onnx = writeTinyOnnx(dir.file('voc.onnx'), { classes: 21, layout: 'NHWC', height: 8, width: 8 })
    const added = await ctxlens('models', 'add', '--project', project, '--model', onnx, '--classes', 'voc', '--normalise', 'range:0,1', '--json')
    expect(added.code, added.stderr).toBe(0)
    expect(JSON.parse(readFileSync(`${onnx}.ctxlens.json`, 'utf8'))).toMatchObject({ layout: 'NHWC', ignoreId: 255 })
  }, 60_000)

  it('refuses a model whose channels are not the classes, naming file and node, and stores nothing', async () => {
    const onnx = writeTinyOnnx(dir.file('bad.onnx'), { classes: 4 })
    const r = await ctxlens('models', 'add', '--project', project, '--model', onnx, '--classes', 'voc', '--normalise', 'range:0,1', '--json')
    expect(r.code).toBe(1)
    const e = errorOf(r)
    expect(e.code).toBe('MODEL_OUTPUT_MISMATCH')
    expect(e.message).toContain(onnx)
    expect(e.message).toContain('output "output" has 4 channels')
    expect(existsSync(`${onnx}.ctxlens.json`)).toBe(false)
    const listed = JSON.parse((await ctxlens('models', 'list', '--project', project, '--json')).stdout)
    expect(listed.map((m: { name: string }) => m.name)).not.toContain('bad')
  }, 60_000)

  it('names a malformed flag value before doing anything', async () => {
    const r = await ctxlens('models', 'describe', '--model', dir.file('city.onnx'), '--classes', 'cityscapes', '--input', '16x32')
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain("option '--input <HxWxC>' argument '16x32' is invalid")
  }, 60_000)

  it('explain takes the .onnx file and its flags, describes it on the way and explains on ONNX Runtime', async () => {
    const onnx = writeTinyOnnx(dir.file('explain.onnx'), { classes: 2, height: 8, width: 8 })
    const png = dir.file('image.png')
    // A valid 8×8 grey PNG, so the failure is the runtime's and not the image's.
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toFile(png)
    const r = await ctxlens('explain', '--model', onnx, '--classes', dir.file('classes.csv'), '--normalise', 'range:0,1', '--image', png, '--class', '1', '--auto', '--out', dir.file('out'), '--json')
    expect(r.code).toBe(1)
    expect(errorOf(r)).toMatchObject({ code: 'INVALID_PARAMETERS', message: expect.stringContaining('classes.csv') })
    writeFileSync(dir.file('classes.csv'), 'id,name\n0,background\n1,object\n')
    // The grey image is all one class for this model (class 0): explain that segment.
    const r2 = await ctxlens('explain', '--model', onnx, '--classes', dir.file('classes.csv'), '--normalise', 'range:0,1', '--image', png, '--class', '0', '--auto', '--out', dir.file('out'), '--json')
    expect(r2.code, r2.stderr).toBe(0)
    const [explained] = JSON.parse(r2.stdout)
    expect(explained.summary).toMatchObject({ method: 'context', classId: 0, imageHeight: 8, imageWidth: 8 })
    expect(existsSync(explained.files.maskNpy)).toBe(true)
    // The description was written on the way, so later commands need only --model.
    expect(JSON.parse(readFileSync(`${onnx}.ctxlens.json`, 'utf8')).classes.map((c: { name: string }) => c.name)).toEqual(['background', 'object'])
  }, 60_000)
})

describe('ctxlens models with a tfjs folder', () => {
  it('fills in ctxlens.model.json with architecture and content hash; nobody computes a hash by hand', async () => {
    const folder = dir.file('tfjs')
    await saveConvModel(folder, 8, 8)
    // A user's folder: tfjs files and no description.
    rmSync(join(folder, 'ctxlens.model.json'))
    const missing = await ctxlens('models', 'add', '--project', project, '--model', folder, '--json')
    expect(missing.code).toBe(1)
    expect(errorOf(missing)).toMatchObject({ code: 'INVALID_PARAMETERS', message: expect.stringContaining('give --classes, --normalise') })
    writeFileSync(dir.file('rgb.json'), JSON.stringify([{ id: 0, name: 'red', color: '#ff0000' }, { id: 1, name: 'green', color: '#00ff00' }, { id: 2, name: 'blue', color: '#0000ff' }]))
    const ok = await ctxlens('models', 'describe', '--model', folder, '--classes', dir.file('rgb.json'), '--normalise', 'range:0,1', '--json')
    expect(ok.code, ok.stderr).toBe(0)
    const sidecar = JSON.parse(readFileSync(join(folder, 'ctxlens.model.json'), 'utf8'))
    expect(sidecar).toMatchObject({ modelFormat: 'layers-model', architecture: 'tfjs layers-model', input: { height: 8, width: 8, channels: 3 }, contentHash: await contentHash(folder) })
    const added = await ctxlens('models', 'add', '--project', project, '--model', folder, '--json')
    expect(added.code, added.stderr).toBe(0)
    expect(JSON.parse(added.stdout)).toMatchObject({ modelFormat: 'layers-model', classes: [{ name: 'red' }, { name: 'green' }, { name: 'blue' }] })
  }, 120_000)
})
