import { describe, expect, it } from 'vitest'
import { ModelSidecarSchema, ModelSpecSchema, normalisationAffine } from '@common/modelSidecar'

describe('model schemas', () => {
  it('maps 8-bit pixels to the range a model expects', () => {
    const unit = normalisationAffine({ kind: 'range', min: 0, max: 1 }, 1)
    expect(unit.scale[0]).toBeCloseTo(1 / 255, 12)
    expect([unit.min[0], unit.max[0]]).toEqual([0, 1])
    const symmetric = normalisationAffine({ kind: 'range', min: -1, max: 1 }, 3)
    expect(symmetric.min).toEqual([-1, -1, -1])
    expect(symmetric.max.map((v) => Number(v.toFixed(12)))).toEqual([1, 1, 1])
    // ImageNet statistics: black is -mean/std, white is (1 - mean)/std.
    const imagenet = normalisationAffine({ kind: 'meanStd', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }, 3)
    expect(imagenet.min[0]).toBeCloseTo(-0.485 / 0.229, 10)
    expect(imagenet.max[2]).toBeCloseTo((1 - 0.406) / 0.225, 10)
    expect(imagenet.offset[1] + 128 * imagenet.scale[1]).toBeCloseTo((128 / 255 - 0.456) / 0.224, 10)
  })

  it('fills spec defaults: width 1, 4 levels, batch norm, seed 0', () => {
    expect(ModelSpecSchema.parse({ architecture: 'unet-vgg', inputShape: [64, 64, 1], numClasses: 11 })).toEqual({
      architecture: 'unet-vgg',
      inputShape: [64, 64, 1],
      numClasses: 11,
      width: 1,
      levels: 4,
      batchNorm: true,
      seed: 0
    })
  })

  const base = {
    format: 'ctxlens.model',
    version: 1,
    name: 'm',
    modelFormat: 'layers-model',
    classes: [
      { id: 0, name: 'a', color: [0, 0, 0] },
      { id: 1, name: 'b', color: [255, 0, 0] }
    ],
    ignoreId: 255,
    input: { height: 8, width: 8, channels: 3 },
    normalisation: { kind: 'range', min: 0, max: 1 },
    architecture: 'x',
    contentHash: 'a'.repeat(64)
  }

  it('accepts a consistent sidecar and rejects inconsistent ones', () => {
    expect(ModelSidecarSchema.safeParse(base).success).toBe(true)
    const bad = [
      { ...base, classes: [base.classes[0], { ...base.classes[1], id: 0 }] },
      { ...base, ignoreId: 1 },
      { ...base, normalisation: { kind: 'meanStd', scale: 1, mean: [1, 2], std: [1] } },
      { ...base, normalisation: { kind: 'range', min: 1, max: 1 } },
      { ...base, spec: { architecture: 'unet-vgg', inputShape: [8, 8, 3], numClasses: 3 } },
      { ...base, contentHash: 'xyz' }
    ]
    for (const b of bad) expect(ModelSidecarSchema.safeParse(b).success).toBe(false)
  })
})
