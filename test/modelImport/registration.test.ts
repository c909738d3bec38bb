import { createHash } from 'node:crypto'
import { copyFileSync, cpSync, readFileSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isAppError } from '../../src/common/errors'
import { registerModel, registeredSidecar } from '../../src/main/audit/registeredModels'
import { saveModel } from '../../src/main/engine/modelFiles'
import { loadModelArtifacts } from '../../src/main/engine/modelFiles/fsHandler'
import { describeModel, descriptionPath } from '../../src/main/modelImport'
import { Project } from '../../src/main/store/project'
import { tempDir } from '../helpers/tempdir'
import { writeTinyOnnx } from './onnxFixtures'

/**
 * Registering models in a project: the content hash names the weights, but what the outputs mean is the
 * description. The same weights described otherwise are refused (naming the model they are registered as)
 * before anything is written; shards model.json does not describe are refused at registration, named.
 */
const dir = tempDir()
let project: Project
afterAll(() => {
  project?.close()
  dir.cleanup()
})

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; details: unknown }> {
  try {
    await p
  } catch (err) {
    if (isAppError(err)) return { code: err.code, message: err.message, details: err.details }
    throw err
  }
  throw new Error('expected an AppError')
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')

/** A 1×1 convolution with softmax over two classes, saved with its description. */
async function saveTinyTfjs(folder: string, units = 2): Promise<void> {
  await tf.setBackend('cpu')
  const model = tf.sequential({
    layers: [tf.layers.conv2d({ inputShape: [4, 4, 3], filters: units, kernelSize: 1, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })]
  })
  const classes = Array.from({ length: units }, (_, i) => ({ id: i, name: `class${i}`, color: [i, i, i] as [number, number, number] }))
  await saveModel(model, folder, { name: 'tiny', classes, ignoreId: null, input: { height: 4, width: 4, channels: 3 }, normalisation: { kind: 'range', min: 0, max: 1 }, architecture: 'hand-built' })
  model.dispose()
}

beforeAll(() => {
  project = Project.create(dir.file('models.ctxlens'))
})

describe('the same weights under another description', () => {
  it('tfjs: refused naming the registered model, the description on disk left as it was', async () => {
    const folder = join(dir.path, 'tiny')
    await saveTinyTfjs(folder)
    const first = await registerModel(project, folder)

    // The same folder again, with other classes given as flags.
    const sidecarBefore = sha256(descriptionPath(folder))
    const e = await failure(registerModel(project, folder, undefined, { classes: ['road', 'sky'] }))
    expect(e.code).toBe('CONFLICT')
    expect(e.message).toContain(`model #${first.id} "tiny"`)
    expect(e.message).toContain(folder)
    expect(e.message).toContain('classes 0 class0, 1 class1 vs 0 road, 1 sky')
    expect(sha256(descriptionPath(folder))).toBe(sidecarBefore)

    // A copy of the folder whose own description says other classes.
    const copy = join(dir.path, 'tiny-copy')
    cpSync(folder, copy, { recursive: true })
    const sidecar = JSON.parse(readFileSync(descriptionPath(copy), 'utf8'))
    writeFileSync(descriptionPath(copy), JSON.stringify({ ...sidecar, classes: [sidecar.classes[1], sidecar.classes[0]].map((c, i) => ({ ...c, id: i })) }))
    expect((await failure(registerModel(project, copy))).code).toBe('CONFLICT')

    // The same description from another folder is the same model, as before.
    const same = join(dir.path, 'tiny-same')
    cpSync(folder, same, { recursive: true })
    expect((await registerModel(project, same)).id).toBe(first.id)
    expect(project.models.list()).toHaveLength(1)
  })

  it('ONNX: refused the same way', async () => {
    const file = writeTinyOnnx(dir.file('seg.onnx'), { classes: 2 })
    const first = await registerModel(project, file, undefined, { classes: ['a', 'b'], normalise: 'range:0,1' })
    const copy = dir.file('seg-copy.onnx')
    copyFileSync(file, copy)
    const e = await failure(registerModel(project, copy, undefined, { classes: ['a', 'b'], normalise: 'imagenet' }))
    expect(e.code).toBe('CONFLICT')
    expect(e.message).toContain(`model #${first.id} "seg"`)
    expect(e.message).toContain('normalisation range:0,1 vs imagenet')
    expect((await registerModel(project, copy, undefined, { classes: ['a', 'b'], normalise: 'range:0,1' })).id).toBe(first.id)
  })

  it('a registered model described anew beside its files is refused where it is used, naming the description', async () => {
    const folder = join(dir.path, 'redescribed')
    await saveTinyTfjs(folder, 3)
    const model = await registerModel(project, folder)
    expect((await registeredSidecar(model)).classes).toHaveLength(3)
    await describeModel(folder, { classes: ['car', 'sky', 'road'] })
    const e = await failure(registeredSidecar(model))
    expect(e.code).toBe('MODEL_FILE_INVALID')
    expect(e.message).toContain(descriptionPath(folder))
    expect(e.message).toContain('0 car, 1 sky, 2 road')
  })
})

describe('weight files model.json does not describe', () => {
  it('a truncated shard with a recomputed hash is refused at registration, naming the folder and the file', async () => {
    const folder = join(dir.path, 'truncated')
    await saveTinyTfjs(folder)
    const shard = join(folder, 'group1-shard1of1.bin')
    const full = readFileSync(shard).length
    truncateSync(shard, full / 2)
    // What a careless hand (or tool) does to make the hash check pass again.
    const sidecar = JSON.parse(readFileSync(descriptionPath(folder), 'utf8'))
    const hash = createHash('sha256').update(readFileSync(join(folder, 'model.json'))).update(readFileSync(shard)).digest('hex')
    writeFileSync(descriptionPath(folder), JSON.stringify({ ...sidecar, contentHash: hash }))

    const models = project.models.list().length
    const e = await failure(registerModel(project, folder))
    expect(e.code).toBe('MODEL_FILE_INVALID')
    expect(e.message).toContain(folder)
    expect(e.message).toContain(`group1-shard1of1.bin holds ${full / 2} bytes where ${full} are described`)
    expect(project.models.list()).toHaveLength(models)

    // Where the engine reads the files (predict, explain), the same error names the folder too.
    const load = await failure(loadModelArtifacts(folder))
    expect(load.code).toBe('MODEL_FILE_INVALID')
    expect(load.message).toContain(folder)
  })
})
