import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { saveModel } from '@main/engine/modelFiles'
import { decodeNpy } from '@main/explain/npy'
import { ServiceContext } from '@main/services/context'
import { createDispatch, type Dispatch } from '@main/services/dispatch'
import { createServices } from '@main/services/index'
import { builtCli } from '../helpers/builtApp'
import { tempDir } from '../helpers/tempdir'

/**
 * `explain` end to end on a model whose answer is known: a per-pixel classifier (1×1 convolution + softmax,
 * class 1 where the pixel is bright). It needs no context at all, so context saliency must come out empty and
 * the gradient outside the request must be zero.
 */
const dir = tempDir()
const SIZE = 16
let ctx: ServiceContext
let dispatch: Dispatch
const modelDir = dir.file('pixel-model')
const imagePath = dir.file('image.png')
const requestPath = dir.file('request.png')

beforeAll(async () => {
  await tf.setBackend('cpu')
  const model = tf.sequential({
    layers: [tf.layers.conv2d({ inputShape: [SIZE, SIZE, 1], filters: 2, kernelSize: 1, activation: 'softmax', name: 'pixel' })]
  })
  // logit(1) − logit(0) = 20·(x − 0.5): bright pixels are class 1.
  model.getLayer('pixel').setWeights([tf.tensor4d([-10, 10], [1, 1, 1, 2]), tf.tensor1d([5, -5])])
  await saveModel(model, modelDir, {
    name: 'per-pixel',
    classes: [
      { id: 0, name: 'dark', color: [0, 0, 0] },
      { id: 1, name: 'bright', color: [255, 255, 255] }
    ],
    ignoreId: null,
    input: { height: SIZE, width: SIZE, channels: 1 },
    normalisation: { kind: 'range', min: 0, max: 1 },
    architecture: 'hand-built'
  })
  const pixels = Buffer.alloc(SIZE * SIZE, 30)
  const request = Buffer.alloc(SIZE * SIZE, 0)
  for (let y = 4; y < 10; y++) for (let x = 5; x < 11; x++) (pixels[y * SIZE + x] = 230), (request[y * SIZE + x] = 255)
  await sharp(pixels, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toFile(imagePath)
  await sharp(request, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toFile(requestPath)
  ctx = new ServiceContext('cli', { backend: 'cpu' })
  dispatch = createDispatch(createServices(ctx))
})
afterAll(() => {
  ctx.dispose()
  dir.cleanup()
})

const base = () => ({ modelDir, imagePath, classId: 1, request: { kind: 'file', path: requestPath }, preset: 'synthetic', outDir: dir.file('out') })

describe('explain an image', () => {
  it('context saliency of a model that needs no context is empty, and every output file says so', async () => {
    const reply = await dispatch('explain:image', { ...base(), method: 'context', params: { steps: 60 } })
    expect(reply.ok, JSON.stringify(reply)).toBe(true)
    if (!reply.ok) return
    const [r] = reply.result as { files: Record<string, string>; summary: Record<string, unknown>; area: number }[]
    expect(r.area).toBe(36)
    expect(r.summary.recovered).toBe(true)
    const npy = decodeNpy(readFileSync(r.files.maskNpy))
    expect(npy.shape).toEqual([4, 4])
    expect(Math.max(...npy.data)).toBeLessThan(0.05)
    // Overlay: the request's outline in blue, no red anywhere.
    const { data, info } = await sharp(r.files.overlayPng).raw().toBuffer({ resolveWithObject: true })
    expect([info.width, info.height]).toEqual([SIZE, SIZE])
    const px = (x: number, y: number) => Array.from(data.subarray((y * SIZE + x) * info.channels, (y * SIZE + x) * info.channels + 3))
    expect(px(5, 4)).toEqual([30, 90, 255])
    expect(px(0, 0)).toEqual([30, 30, 30])
    const summary = JSON.parse(readFileSync(r.files.summaryJson, 'utf8'))
    expect(summary.params).toMatchObject({ method: 'context', maskHeight: 4, lambda: 0.05, upsample: { halfPixelCenters: true } })
    // Removing context never moves this model's score: both deletion curves stay flat, the figure is 0.
    expect(summary.faithfulness).toMatchObject({ value: 0, contextCells: 16, params: { steps: 8, randomOrders: 3 } })
    for (const v of [...summary.faithfulness.salient, ...summary.faithfulness.random]) expect(v).toBeCloseTo(summary.scoreOriginal, 6)
  })

  it('the context gradient of a per-pixel model is zero outside the request', async () => {
    const reply = await dispatch('explain:image', { ...base(), method: 'vg', params: {} })
    expect(reply.ok).toBe(true)
    if (!reply.ok) return
    const [r] = reply.result as { files: Record<string, string> }[]
    expect(Math.max(...decodeNpy(readFileSync(r.files.maskNpy)).data)).toBe(0)
  })

  it('--auto finds the predicted segment of the class', async () => {
    const reply = await dispatch('explain:image', { ...base(), request: { kind: 'auto', minArea: 4 }, method: 'vg', params: {} })
    expect(reply.ok).toBe(true)
    if (reply.ok) expect((reply.result as { area: number; bbox: number[] }[]).map((r) => [r.area, r.bbox])).toEqual([[36, [5, 4, 6, 6]]])
  })

  it('refuses an unknown class, a request of the wrong size, an empty request and a corrupt image by name', async () => {
    const codeOf = async (over: Record<string, unknown>) => {
      const reply = await dispatch('explain:image', { ...base(), method: 'vg', params: {}, ...over })
      return reply.ok ? 'ok' : reply.error.code
    }
    expect(await codeOf({ classId: 7 })).toBe('UNKNOWN_CLASS_ID')
    const small = dir.file('small.png')
    await sharp(Buffer.alloc(64, 255), { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(small)
    expect(await codeOf({ request: { kind: 'file', path: small } })).toBe('REQUEST_SIZE_MISMATCH')
    expect(await codeOf({ imagePath: small })).toBe('IMAGE_SIZE_MISMATCH')
    const empty = dir.file('empty.png')
    await sharp(Buffer.alloc(SIZE * SIZE, 0), { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toFile(empty)
    expect(await codeOf({ request: { kind: 'file', path: empty } })).toBe('EMPTY_REQUEST_MASK')
    const corrupt = dir.file('corrupt.png')
    writeFileSync(corrupt, 'not a png')
    expect(await codeOf({ imagePath: corrupt })).toBe('IMAGE_UNREADABLE')
    expect(await codeOf({ params: { steps: -3 }, method: 'context' })).toBe('INVALID_PARAMETERS')
  })

  it('runs as `ctxlens explain` from the shell', () => {
    const cli = builtCli()
    const r = spawnSync(
      process.execPath,
      [cli, '--backend', 'cpu', 'explain', '--model', modelDir, '--image', imagePath, '--class', '1', '--request', requestPath, '--method', 'grid', '--steps', '5', '--out', dir.file('cli-out'), '--json'],
      { encoding: 'utf8' }
    )
    expect(r.status, r.stderr).toBe(0)
    const [result] = JSON.parse(r.stdout)
    expect(result.summary.method).toBe('grid')
    expect(result.summary.stepsRun).toBe(5)
    expect(result.summary.faithfulness).toMatchObject({ value: expect.any(Number), fractions: expect.any(Array) })
  })
})
