import { serialize } from 'node:v8'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ModelSidecar, Normalisation } from '@common/modelSidecar'
import { inputEncoding, type RgbImage, withModelInputs } from '@common/rgbInput'
import { toModelInput } from '@main/explain/imageInput'
import { computeSaliency } from '@main/saliency'
import { smallConvModel, useCpu } from '../../saliency/models'

/**
 * Images cross to the engine's workers as RGB bytes and become the model's input there. The input must be the one
 * main made before, bit for bit: the reference below is main's conversion as it was before the workers took it
 * over (explain/imageInput.ts), kept here unchanged so that neither side can drift from it.
 */
function referenceInput(rgb: Uint8Array, n: number, channels: number, norm: Normalisation): Float32Array {
  const scale: number[] = []
  const offset: number[] = []
  for (let c = 0; c < channels; c++) {
    if (norm.kind === 'range') {
      scale.push((norm.max - norm.min) / 255)
      offset.push(norm.min)
    } else {
      const mean = norm.mean[norm.mean.length === 1 ? 0 : c]
      const std = norm.std[norm.std.length === 1 ? 0 : c]
      scale.push(norm.scale / std)
      offset.push(-mean / std)
    }
  }
  const data = new Float32Array(n * channels)
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = rgb[i * 3 + Math.min(c, 2)] * scale[c] + offset[c]
  return data
}

const H = 8
const W = 12
function rgbImage(seed: number): RgbImage {
  const rgb = new Uint8Array(H * W * 3)
  // Every byte value occurs, so each step of the affine map is exercised.
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 97 + seed * 31) & 255
  return { rgb, height: H, width: W }
}
const sidecar = (channels: number, normalisation: Normalisation) =>
  ({ input: { height: H, width: W, channels }, normalisation }) as unknown as ModelSidecar

const NORMALISATIONS: [string, Normalisation][] = [
  ['range 0..1', { kind: 'range', min: 0, max: 1 }],
  ['range -1..1', { kind: 'range', min: -1, max: 1 }],
  ['ImageNet mean/std', { kind: 'meanStd', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }],
  ['one mean/std for all channels', { kind: 'meanStd', scale: 1, mean: [127.5], std: [58] }]
]

describe('RGB images to the engine', () => {
  beforeAll(useCpu)

  for (const [name, normalisation] of NORMALISATIONS) {
    for (const channels of [3, 1]) {
      it(`makes the same model input in the worker as main did (${name}, ${channels} channel${channels > 1 ? 's' : ''})`, () => {
        const image = rgbImage(channels)
        const s = sidecar(channels, normalisation)
        const [converted] = withModelInputs([{ image, classId: 0 }], inputEncoding(s))
        const expected = referenceInput(image.rgb, H * W, channels, normalisation)
        expect(converted.image).toMatchObject({ height: H, width: W, channels })
        expect(converted.image.data).toEqual(expected)
        // And main's own path (predictions, audits, files) still makes exactly this input.
        expect(toModelInput(image.rgb, W, H, s)).toEqual(expected)
      })
    }
  }

  it('explains an RGB request exactly as the same request in input units', async () => {
    const model = smallConvModel(H, W, 3, 3)
    const s = sidecar(3, NORMALISATIONS[2][1])
    const image = rgbImage(5)
    const request = new Uint8Array(H * W)
    for (let y = 2; y < 6; y++) for (let x = 3; x < 8; x++) request[y * W + x] = 1
    const params = { method: 'context', steps: 4, maskHeight: 2, maskWidth: 3 } as const
    const asInput = { image: { data: toModelInput(image.rgb, W, H, s), height: H, width: W, channels: 3 }, request, classId: 1 }
    const [fromInput] = await computeSaliency(model, [asInput], params)
    const [fromRgb] = await computeSaliency(model, withModelInputs([{ image, request, classId: 1 }], inputEncoding(s)), params)
    expect(fromRgb.mask).toEqual(fromInput.mask)
    expect([fromRgb.scoreOriginal, fromRgb.scorePerturbed, fromRgb.preservation]).toEqual([fromInput.scoreOriginal, fromInput.scorePerturbed, fromInput.preservation])
  })

  it('converts an image shared by several requests once, and passes input-unit images through untouched', () => {
    const image = rgbImage(2)
    const ready = { data: new Float32Array(H * W), height: H, width: W, channels: 1 }
    const out = withModelInputs([{ image, classId: 0 }, { image, classId: 1 }, { image: ready, classId: 2 }], inputEncoding(sidecar(1, NORMALISATIONS[0][1])))
    expect(out[0].image).toBe(out[1].image)
    expect(out[2].image).toBe(ready)
    expect(out.map((r) => r.classId)).toEqual([0, 1, 2])
  })

  it('refuses an RGB image that arrives without the encoding to convert it with', () => {
    expect(() => withModelInputs([{ image: rgbImage(1), classId: 0 }], undefined)).toThrow(/without the model input encoding/)
  })

  it('sends a quarter of the bytes of the Float32 input to the worker', () => {
    const image = rgbImage(3)
    const s = sidecar(3, NORMALISATIONS[0][1])
    const asRgb = serialize({ requests: [{ image, classId: 0 }] }).byteLength
    const asInput = serialize({ requests: [{ image: { data: toModelInput(image.rgb, W, H, s), height: H, width: W, channels: 3 }, classId: 0 }] }).byteLength
    expect(asRgb / asInput).toBeLessThan(0.3)
  })
})
