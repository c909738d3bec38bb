import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isAppError, type ErrorCode } from '@common/errors'
import { SIDECAR_FILE, type ModelSidecarInput } from '@common/modelSidecar'
import { buildModel } from '@main/engine/models'
import { contentHash, fsHandler, loadModel, saveModel, writeSidecar } from '@main/engine/modelFiles'

let root: string
let counter = 0
const freshDir = (): string => join(root, `m${++counter}`)

beforeAll(async () => {
  await tf.setBackend('cpu')
  root = await mkdtemp(join(tmpdir(), 'ctxlens-models-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

function describeModel(numClasses: number, input: [number, number, number], extra: Partial<ModelSidecarInput> = {}): ModelSidecarInput {
  return {
    name: 'test model',
    classes: Array.from({ length: numClasses }, (_, k) => ({ id: k, name: `class ${k}`, color: [k * 20, 255 - k * 20, 128] as [number, number, number] })),
    ignoreId: 255,
    input: { height: input[0], width: input[1], channels: input[2] },
    normalisation: { kind: 'range', min: 0, max: 1 },
    architecture: 'test',
    ...extra
  }
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  try {
    await promise
  } catch (err) {
    expect(isAppError(err) ? err.code : err).toBe(code)
    if (message) expect((err as Error).message).toMatch(message)
    return
  }
  expect.unreachable(`expected ${code}`)
}

/** Independent hash: sha256 of the files as bytes, in the order model.json lists them. */
async function hashFiles(dir: string): Promise<string> {
  const jsonBytes = await readFile(join(dir, 'model.json'))
  const json = JSON.parse(jsonBytes.toString('utf8')) as { weightsManifest: { paths: string[] }[] }
  const h = createHash('sha256').update(jsonBytes)
  for (const group of json.weightsManifest) for (const p of group.paths) h.update(await readFile(join(dir, p)))
  return h.digest('hex')
}

const SMALL_UNET = { architecture: 'unet-vgg' as const, inputShape: [16, 16, 1] as [number, number, number], numClasses: 4, width: 0.25, levels: 2 }

/** A model built from plain layers, with the head the test wants to get wrong. */
function plainModel(head: (x: tf.SymbolicTensor) => tf.SymbolicTensor, input: [number, number, number] = [8, 8, 1]): tf.LayersModel {
  const x = tf.input({ shape: input })
  const h = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(x) as tf.SymbolicTensor
  return tf.model({ inputs: x, outputs: head(h) })
}

describe('model files', () => {
  it('round-trips a zoo model with identical predictions and a content hash over the files', async () => {
    const dir = freshDir()
    const model = buildModel(SMALL_UNET)
    const meta = describeModel(4, [16, 16, 1], { architecture: 'unet-vgg', training: { epochs: 3, dataset: 'texture-mnist' } })
    // Small shards so the manifest has several files and their order matters to the hash.
    await model.save(fsHandler(dir, { shardBytes: 1024 }))
    const sidecar = await writeSidecar(dir, meta)
    expect(sidecar.contentHash).toBe(await hashFiles(dir))

    const x = tf.randomUniform([2, 16, 16, 1], 0, 1, 'float32', 5) as tf.Tensor4D
    const before = model.predict(x) as tf.Tensor
    const loaded = await loadModel(dir)
    expect(loaded.format).toBe('layers-model')
    expect(loaded.sidecar.training?.epochs).toBe(3)
    const after = loaded.predict(x)
    expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()))
    tf.dispose([x, before, after])
    loaded.dispose()
    model.dispose()
  })

  it('keeps the hash for equal models and changes it when one weight changes', async () => {
    const a = buildModel({ ...SMALL_UNET, seed: 9 })
    const b = buildModel({ ...SMALL_UNET, seed: 9 })
    const meta = describeModel(4, [16, 16, 1])
    const [da, db, dc] = [freshDir(), freshDir(), freshDir()]
    const ha = (await saveModel(a, da, meta)).contentHash
    expect((await saveModel(b, db, meta)).contentHash).toBe(ha)
    expect(await contentHash(da)).toBe(ha)

    const weights = a.getWeights()
    const first = weights[0].bufferSync()
    first.set(first.get(0, 0, 0, 0) + 1e-3, 0, 0, 0, 0)
    a.setWeights([first.toTensor(), ...weights.slice(1)])
    const hc = (await saveModel(a, dc, meta)).contentHash
    expect(hc).not.toBe(ha)
    expect(hc).toBe(await hashFiles(dc))
    a.dispose()
    b.dispose()
  })

  it('round-trips DeepLab with its dilated depthwise and atrous layers', async () => {
    const dir = freshDir()
    const spec = { architecture: 'deeplabv3plus-mobilenetv2' as const, inputShape: [32, 32, 3] as [number, number, number], numClasses: 3, width: 0.25, atrousRates: [1, 2, 3] as [number, number, number] }
    const model = buildModel(spec)
    await saveModel(model, dir, describeModel(3, [32, 32, 3], { architecture: spec.architecture, spec, normalisation: { kind: 'meanStd', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } }))
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { modelTopology: unknown }
    expect(JSON.stringify(json.modelTopology)).toMatch(/"class_name":"DepthwiseConv2D".*"dilation_rate":\[2,2\]/)
    const x = tf.randomUniform([1, 32, 32, 3], -2, 2, 'float32', 3) as tf.Tensor4D
    const before = model.predict(x) as tf.Tensor
    // tfjs refuses gradients through dilated convolutions until the engine registers its own kernels.
    const loaded = await loadModel(dir, { verify: { gradient: false } })
    const after = loaded.predict(x)
    expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()))
    tf.dispose([x, before, after])
    loaded.dispose()
    model.dispose()
  })

  describe('rejects broken files with MODEL_FILE_INVALID', () => {
    let good: string
    beforeAll(async () => {
      good = freshDir()
      const model = buildModel(SMALL_UNET)
      await saveModel(model, good, describeModel(4, [16, 16, 1]))
      model.dispose()
    })
    const copy = async (): Promise<string> => {
      const dir = freshDir()
      const { cp } = await import('node:fs/promises')
      await cp(good, dir, { recursive: true })
      return dir
    }

    it('missing folder', async () => {
      await expectCode(loadModel(join(root, 'nowhere')), 'MODEL_FILE_INVALID', /Cannot read/)
    })
    it('model.json that is not JSON', async () => {
      const dir = await copy()
      await writeFile(join(dir, 'model.json'), '{"modelTopology": {')
      await expectCode(loadModel(dir), 'MODEL_FILE_INVALID', /not valid JSON/)
    })
    it('JSON without a model topology', async () => {
      const dir = await copy()
      await writeFile(join(dir, 'model.json'), '{"weights": []}')
      await expectCode(loadModel(dir), 'MODEL_FILE_INVALID', /modelTopology/)
    })
    it('missing weight shard', async () => {
      const dir = await copy()
      await unlink(join(dir, 'group1-shard1of1.bin'))
      await expectCode(loadModel(dir), 'MODEL_FILE_INVALID', /weight file/)
    })
    it('weights edited after the sidecar was written', async () => {
      const dir = await copy()
      const shard = join(dir, 'group1-shard1of1.bin')
      const bytes = await readFile(shard)
      bytes[100] ^= 0xff
      await writeFile(shard, bytes)
      await expectCode(loadModel(dir), 'MODEL_FILE_INVALID', /content hash/)
    })
    it('truncated weights: no sidecar can be written for them, and loading names the shard', async () => {
      const dir = await copy()
      await truncate(join(dir, 'group1-shard1of1.bin'), 100)
      // Hashing for a sidecar checks the byte counts first, so a truncated folder never gets a matching sidecar.
      await expectCode(writeSidecar(dir, describeModel(4, [16, 16, 1])), 'MODEL_FILE_INVALID', /group1-shard1of1\.bin holds 100 bytes/)
      await expectCode(loadModel(dir), 'MODEL_FILE_INVALID', /bytes/)
    })
    it('weight path escaping the model folder', async () => {
      const dir = await copy()
      const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] }
      json.weightsManifest[0].paths = ['../../etc/passwd']
      await writeFile(join(dir, 'model.json'), JSON.stringify(json))
      await expectCode(loadModel(dir), 'MODEL_FILE_INVALID', /outside/)
    })
    it('no sidecar and no description', async () => {
      const dir = await copy()
      await unlink(join(dir, SIDECAR_FILE))
      await expectCode(loadModel(dir), 'MODEL_FILE_INVALID', new RegExp(SIDECAR_FILE))
    })
    it('sidecar with an invalid class colour', async () => {
      const dir = await copy()
      const sidecar = JSON.parse(await readFile(join(dir, SIDECAR_FILE), 'utf8')) as { classes: { color: number[] }[] }
      sidecar.classes[1].color = [0, 300, 0]
      await writeFile(join(dir, SIDECAR_FILE), JSON.stringify(sidecar))
      await expectCode(loadModel(dir), 'MODEL_FILE_INVALID', /classes\.1\.color/)
    })
    it('sidecar input size that disagrees with the model', async () => {
      const dir = await copy()
      await writeSidecar(dir, describeModel(4, [32, 32, 1]))
      await expectCode(loadModel(dir), 'MODEL_FILE_INVALID', /input/)
    })
  })

  it('loads a user model without a sidecar when given a description', async () => {
    const dir = freshDir()
    const model = plainModel((h) => tf.layers.conv2d({ filters: 3, kernelSize: 1, activation: 'softmax' }).apply(h) as tf.SymbolicTensor)
    await model.save(fsHandler(dir))
    const loaded = await loadModel(dir, { sidecar: describeModel(3, [8, 8, 1], { architecture: 'keras-import' }) })
    expect(loaded.sidecar.contentHash).toBe(await hashFiles(dir))
    loaded.dispose()
    model.dispose()
  })

  it('gives MODEL_OUTPUT_MISMATCH for a class list of the wrong length', async () => {
    const dir = freshDir()
    const model = buildModel(SMALL_UNET)
    await saveModel(model, dir, describeModel(3, [16, 16, 1]))
    await expectCode(loadModel(dir), 'MODEL_OUTPUT_MISMATCH', /3 classes/)
    model.dispose()
  })

  it('gives MODEL_OUTPUT_MISMATCH for an output at half the input resolution', async () => {
    const dir = freshDir()
    const model = plainModel((h) => tf.layers.conv2d({ filters: 3, kernelSize: 2, strides: 2, activation: 'softmax' }).apply(h) as tf.SymbolicTensor)
    await saveModel(model, dir, describeModel(3, [8, 8, 1]))
    await expectCode(loadModel(dir), 'MODEL_OUTPUT_MISMATCH', /\[1,4,4,3\]/)
    model.dispose()
  })

  it('gives MODEL_NOT_PROBABILITIES for logits and for per-class sigmoids', async () => {
    const logits = plainModel((h) => tf.layers.conv2d({ filters: 3, kernelSize: 1, kernelInitializer: tf.initializers.randomNormal({ stddev: 3, seed: 2 }) }).apply(h) as tf.SymbolicTensor)
    const sigmoid = plainModel((h) => tf.layers.conv2d({ filters: 3, kernelSize: 1, activation: 'sigmoid' }).apply(h) as tf.SymbolicTensor)
    for (const model of [logits, sigmoid]) {
      const dir = freshDir()
      await saveModel(model, dir, describeModel(3, [8, 8, 1]))
      await expectCode(loadModel(dir), 'MODEL_NOT_PROBABILITIES')
      model.dispose()
    }
  })

  it('gives MODEL_NO_GRADIENT_PATH for a model whose output ignores the image', async () => {
    const dir = freshDir()
    // Zero kernel, random bias: softmax(bias) at every pixel, whatever the input.
    const model = plainModel(
      (h) =>
        tf.layers
          .conv2d({ filters: 3, kernelSize: 1, activation: 'softmax', kernelInitializer: 'zeros', biasInitializer: tf.initializers.randomNormal({ seed: 4 }) })
          .apply(h) as tf.SymbolicTensor
    )
    await saveModel(model, dir, describeModel(3, [8, 8, 1]))
    await expectCode(loadModel(dir), 'MODEL_NO_GRADIENT_PATH', /does not depend/)
    model.dispose()
  })

  it('finds the gradient path of a U-Net and leaves no tensors behind after dispose', async () => {
    const dir = freshDir()
    const model = buildModel({ ...SMALL_UNET, architecture: 'unet-resnet18' })
    await saveModel(model, dir, describeModel(4, [16, 16, 1]))
    const before = tf.memory().numTensors
    const loaded = await loadModel(dir)
    loaded.dispose()
    expect(tf.memory().numTensors).toBe(before)
    model.dispose()
  })

  describe('GraphModel', () => {
    // What tensorflowjs_converter writes for a SavedModel: Placeholder → Conv2D → BiasAdd → Softmax, weights in a shard.
    const kernel = [0.5, -1, 2] // 1×1 conv, 1 input channel, 3 classes
    const bias = [0.1, 0, -0.3]
    const b64 = (s: string): string => Buffer.from(s).toString('base64')
    const shapeAttr = (dims: number[]) => ({ dim: dims.map((d) => ({ size: String(d) })) })

    /**
     * `einsum` swaps the Conv2D for an Einsum, an op tfjs computes but has no gradient for; `reshapedKernel` adds the
     * [1, 3] kernel matrix Einsum uses, which the Conv2D graph leaves dangling as a second output.
     */
    async function writeGraphFixture(dir: string, withFormat: boolean, einsum = false, reshapedKernel = einsum): Promise<void> {
      const { mkdir } = await import('node:fs/promises')
      await mkdir(dir, { recursive: true })
      const float = { type: 'DT_FLOAT' }
      const modelJson = {
        ...(withFormat ? { format: 'graph-model', generatedBy: '2.15.0', convertedBy: 'hand' } : {}),
        modelTopology: {
          node: [
            { name: 'image', op: 'Placeholder', attr: { dtype: float, shape: { shape: shapeAttr([-1, 4, 4, 1]) } } },
            { name: 'w', op: 'Const', attr: { dtype: float, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: shapeAttr([1, 1, 1, 3]) } } } },
            ...(reshapedKernel
              ? [
                  { name: 'w2', op: 'Reshape', input: ['w', 'w2_shape'], attr: { T: float } },
                  { name: 'w2_shape', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: shapeAttr([2]) } } } }
                ]
              : []),
            { name: 'b', op: 'Const', attr: { dtype: float, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: shapeAttr([3]) } } } },
            einsum
              ? { name: 'conv', op: 'Einsum', input: ['image', 'w2'], attr: { T: float, N: { i: '2' }, equation: { s: b64('bhwc,cd->bhwd') } } }
              : {
              name: 'conv',
              op: 'Conv2D',
              input: ['image', 'w'],
              attr: {
                T: float,
                strides: { list: { i: ['1', '1', '1', '1'] } },
                padding: { s: b64('SAME') },
                data_format: { s: b64('NHWC') },
                dilations: { list: { i: ['1', '1', '1', '1'] } }
              }
            },
            { name: 'logits', op: 'BiasAdd', input: ['conv', 'b'], attr: { T: float, data_format: { s: b64('NHWC') } } },
            { name: 'probs', op: 'Softmax', input: ['logits'], attr: { T: float } }
          ],
          library: {},
          versions: { producer: 1482 }
        },
        weightsManifest: [
          {
            paths: ['group1-shard1of1.bin'],
            weights: [
              { name: 'w', shape: [1, 1, 1, 3], dtype: 'float32' },
              { name: 'b', shape: [3], dtype: 'float32' },
              { name: 'w2_shape', shape: [2], dtype: 'int32' }
            ]
          }
        ]
      }
      await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson))
      await writeFile(join(dir, 'group1-shard1of1.bin'), Buffer.concat([Buffer.from(new Float32Array([...kernel, ...bias]).buffer), Buffer.from(new Int32Array([1, 3]).buffer)]))
    }

    for (const withFormat of [true, false]) {
      it(`loads a hand-made graph model ${withFormat ? 'with' : 'without'} a format field and predicts softmax(x·w + b)`, async () => {
        const dir = freshDir()
        await writeGraphFixture(dir, withFormat)
        await writeSidecar(dir, describeModel(3, [4, 4, 1], { architecture: 'savedmodel-import' }))
        const loaded = await loadModel(dir)
        expect(loaded.format).toBe('graph-model')
        const pixels = Array.from({ length: 16 }, (_, i) => i / 15)
        const y = loaded.predict(tf.tensor4d(pixels, [1, 4, 4, 1]))
        expect(y.shape).toEqual([1, 4, 4, 3])
        const out = y.dataSync()
        pixels.forEach((v, i) => {
          const z = kernel.map((w, k) => v * w + bias[k])
          const e = z.map(Math.exp)
          const s = e[0] + e[1] + e[2]
          for (let k = 0; k < 3; k++) expect(out[i * 3 + k]).toBeCloseTo(e[k] / s, 5)
        })
        y.dispose()
        loaded.dispose()
      })
    }

    it('gives MODEL_NO_GRADIENT_PATH when the gradient computation throws', async () => {
      const dir = freshDir()
      await writeGraphFixture(dir, true, true)
      await writeSidecar(dir, describeModel(3, [4, 4, 1]))
      // The forward pass is a valid probability map; only differentiation fails.
      const unverified = await loadModel(dir, { verify: { gradient: false } })
      unverified.dispose()
      await expectCode(loadModel(dir), 'MODEL_NO_GRADIENT_PATH', /Einsum/)
    })

    it('needs outputName to pick the probability map of a graph with several outputs', async () => {
      const dir = freshDir()
      await writeGraphFixture(dir, true, false, true)
      await writeSidecar(dir, describeModel(3, [4, 4, 1]))
      await expectCode(loadModel(dir), 'MODEL_FILE_INVALID', /outputName/)
      await writeSidecar(dir, describeModel(3, [4, 4, 1], { outputName: 'probs' }))
      const loaded = await loadModel(dir)
      const y = loaded.predict(tf.zeros([1, 4, 4, 1]))
      expect(y.shape).toEqual([1, 4, 4, 3])
      tf.dispose(y)
      loaded.dispose()
    })

    it('gives MODEL_OUTPUT_MISMATCH when the graph has fewer outputs than classes', async () => {
      const dir = freshDir()
      await writeGraphFixture(dir, true)
      await writeSidecar(dir, describeModel(4, [4, 4, 1]))
      await expectCode(loadModel(dir), 'MODEL_OUTPUT_MISMATCH')
    })
  })
})
