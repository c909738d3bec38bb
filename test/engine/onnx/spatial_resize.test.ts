import { describe, expect, it } from 'vitest'
import { elementCount, float32Tensor, floatAttr, int64Tensor, intsAttr, stringAttr, type IrAttribute, type IrTensor } from '../../../src/main/engine/onnx/ir'
import { resizeAxes, resizeAxisMatrix } from '../../../src/main/engine/onnx/vjp/resize'
import { spatialRules } from '../../../src/main/engine/onnx/vjp/spatial'
import { UnsupportedGradientError } from '../../../src/main/engine/onnx/vjp/types'
import { checkAgainstFiniteDifferences, FD_TOLERANCE, forward, makeNode, randomArray, seeded, type RuleCase } from './ruleHarness'

interface ResizeSpec {
  x: number[]
  mode: 'nearest' | 'linear' | 'cubic'
  roi?: number[]
  extra?: Record<string, IrAttribute>
  coordinate?: string
  nearest?: string
  scales?: number[]
  sizes?: number[]
  opset: number
  op?: 'Resize' | 'Upsample'
}

function resizeCase(s: ResizeSpec): RuleCase {
  const attrs: Record<string, IrAttribute> = { mode: stringAttr(s.mode), ...(s.extra ?? {}) }
  if (s.coordinate) attrs.coordinate_transformation_mode = stringAttr(s.coordinate)
  if (s.nearest) attrs.nearest_mode = stringAttr(s.nearest)
  const inits: Record<string, IrTensor> = {}
  let inputs: string[]
  let batched: RuleCase['batched']
  if (s.op === 'Upsample' && s.opset < 9) {
    attrs.scales = { kind: 'floats', value: s.scales! }
    inputs = ['x']
  } else if (s.op === 'Upsample' || s.opset < 11) {
    inits.scales = float32Tensor(s.scales!, [s.scales!.length])
    inputs = ['x', 'scales']
  } else if (s.scales) {
    inits.roi = float32Tensor(s.roi ?? [], [s.roi?.length ?? 0])
    inits.scales = float32Tensor(s.scales, [s.scales.length])
    inputs = ['x', 'roi', 'scales']
  } else {
    const sizes = s.sizes!
    inits.sizes = int64Tensor(sizes)
    // With an axes attribute the sizes name only the resized axes, not the batch.
    if (!s.extra?.axes) batched = (b) => ({ sizes: int64Tensor([b, ...sizes.slice(1)]) })
    if (s.roi) {
      inits.roi = float32Tensor(s.roi, [s.roi.length])
      inits.scales = float32Tensor([], [0])
      inputs = ['x', 'roi', 'scales', 'sizes']
    } else if (s.opset < 13) {
      inits.roi = float32Tensor([], [0])
      inits.scales = float32Tensor([], [0])
      inputs = ['x', 'roi', 'scales', 'sizes']
    } else {
      inputs = ['x', '', '', 'sizes']
    }
  }
  return { node: makeNode(s.op ?? 'Resize', inputs, attrs), initializers: inits, inputShape: s.x, opset: s.opset, rule: spatialRules[s.op ?? 'Resize'], batched }
}

/** y computed from the interpolation matrices: Y = A_H X A_W^T per plane. */
function resizeByMatrices(c: RuleCase, x: Float32Array, yShape: number[]): Float64Array {
  const constant = (v: string) => {
    const t = c.initializers?.[v]
    return t ? Array.from(t.data as ArrayLike<number | bigint>, Number) : undefined
  }
  const axes = resizeAxes(c.node, c.opset, constant, c.inputShape, yShape)
  const [n, ch, h, w] = c.inputShape
  const [oh, ow] = yShape.slice(2)
  const AH = resizeAxisMatrix(axes[2])
  const AW = resizeAxisMatrix(axes[3])
  const y = new Float64Array(n * ch * oh * ow)
  for (let p = 0; p < n * ch; p++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let s = 0
        for (let a = 0; a < h; a++) {
          const wa = AH[i * h + a]
          if (wa === 0) continue
          for (let b = 0; b < w; b++) s += wa * AW[j * w + b] * x[p * h * w + a * w + b]
        }
        y[p * oh * ow + i * ow + j] = s
      }
    }
  }
  return y
}

const COORDS = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn']
const NEAREST = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']
/** Up, down, non-integer up/down through scales and through sizes, and halving (exact .5 coordinates in nearest). */
const FACTORS: { name: string; x: number[]; scales?: number[]; sizes?: number[] }[] = [
  { name: 'x2 by scales', x: [1, 2, 5, 6], scales: [1, 1, 2, 2] },
  { name: 'x1.7 / x0.6 by scales', x: [1, 2, 5, 6], scales: [1, 1, 1.7, 0.6] },
  { name: '5x6 to 11x4 by sizes', x: [1, 2, 5, 6], sizes: [1, 2, 11, 4] },
  { name: '5x6 to 3x13 by sizes', x: [1, 2, 5, 6], sizes: [1, 2, 3, 13] },
  { name: 'x0.5 by scales', x: [1, 1, 6, 8], scales: [1, 1, 0.5, 0.5] },
  { name: 'x8 by sizes (LR-ASPP head)', x: [1, 1, 3, 4], sizes: [1, 1, 24, 32] }
]

const specs: (ResizeSpec & { name: string })[] = []
for (const fac of FACTORS) {
  for (const coordinate of COORDS) {
    specs.push({ ...fac, name: `linear ${coordinate} ${fac.name}`, mode: 'linear', coordinate, opset: 13 })
    specs.push({ ...fac, name: `cubic ${coordinate} ${fac.name}`, mode: 'cubic', coordinate, opset: 13 })
    for (const nearest of NEAREST) specs.push({ ...fac, name: `nearest ${nearest} ${coordinate} ${fac.name}`, mode: 'nearest', coordinate, nearest, opset: 13 })
  }
}
// Opset variants: Resize-11 with empty roi/scales beside sizes, Resize-10 and Upsample's asymmetric "simple" rounding, opset 18.
specs.push(
  { name: 'Resize-11 linear align_corners by sizes', x: [1, 2, 5, 6], mode: 'linear', coordinate: 'align_corners', sizes: [1, 2, 9, 13], opset: 11 },
  { name: 'Resize-11 nearest by scales', x: [1, 2, 5, 6], mode: 'nearest', scales: [1, 1, 2.5, 1.5], opset: 11 },
  { name: 'Resize-10 nearest x2', x: [1, 2, 5, 6], mode: 'nearest', scales: [1, 1, 2, 2], opset: 10 },
  { name: 'Resize-10 nearest x0.6', x: [1, 2, 5, 6], mode: 'nearest', scales: [1, 1, 0.6, 1.5], opset: 10 },
  { name: 'Resize-10 linear x1.5', x: [1, 2, 5, 6], mode: 'linear', scales: [1, 1, 1.5, 2], opset: 10 },
  { name: 'Upsample-9 nearest x2', x: [1, 2, 4, 5], mode: 'nearest', scales: [1, 1, 2, 2], opset: 9, op: 'Upsample' },
  { name: 'Upsample-9 linear x2.5', x: [1, 2, 4, 5], mode: 'linear', scales: [1, 1, 2.5, 2], opset: 9, op: 'Upsample' },
  { name: 'Upsample-7 nearest x3', x: [1, 2, 4, 5], mode: 'nearest', scales: [1, 1, 3, 1], opset: 7, op: 'Upsample' },
  { name: 'Resize-18 linear half_pixel_symmetric', x: [1, 2, 5, 6], mode: 'linear', coordinate: 'half_pixel_symmetric', sizes: [1, 2, 8, 4], opset: 18 },
  { name: 'Resize-18 nearest half_pixel', x: [1, 2, 5, 6], mode: 'nearest', sizes: [1, 2, 7, 9], opset: 18 },
  { name: 'cubic exclude_outside, a = -0.5', x: [1, 2, 5, 6], mode: 'cubic', sizes: [1, 2, 9, 4], opset: 13, extra: { exclude_outside: { kind: 'int', value: 1 }, cubic_coeff_a: floatAttr(-0.5) } },
  { name: 'cubic at scale 1 on one axis', x: [1, 2, 5, 6], mode: 'cubic', coordinate: 'asymmetric', sizes: [1, 2, 5, 9], opset: 13 },
  { name: 'tf_crop_and_resize linear, roi past the border', x: [1, 2, 5, 6], mode: 'linear', coordinate: 'tf_crop_and_resize', roi: [0, 0, -0.2, 0.3, 1, 1, 0.9, 1.4], sizes: [1, 2, 7, 5], opset: 13 },
  { name: 'tf_crop_and_resize nearest', x: [1, 2, 5, 6], mode: 'nearest', coordinate: 'tf_crop_and_resize', roi: [0, 0, 0.1, -0.3, 1, 1, 0.8, 0.7], sizes: [1, 2, 8, 6], opset: 13 },
  { name: 'tf_crop_and_resize cubic', x: [1, 2, 5, 6], mode: 'cubic', coordinate: 'tf_crop_and_resize', roi: [0, 0, 0.2, 0, 1, 1, 1.1, 0.5], sizes: [1, 2, 6, 7], opset: 13 },
  { name: 'scale 1.1 that changes no dimension (ORT copies)', x: [1, 2, 5, 6], mode: 'linear', scales: [1, 1, 1.1, 1.1], opset: 13 },
  { name: 'Resize-18 axes attribute with sizes', x: [1, 2, 5, 6], mode: 'linear', sizes: [8, 4], opset: 18, extra: { axes: intsAttr([2, 3]) } },
  { name: 'Resize-18 axes attribute with scales', x: [1, 2, 5, 6], mode: 'nearest', scales: [1.5], opset: 18, extra: { axes: intsAttr([-1]) } },
  { name: 'only the width resized', x: [1, 2, 5, 6], mode: 'linear', sizes: [1, 2, 5, 10], opset: 13 },
  { name: 'rank 3 input', x: [1, 3, 7], mode: 'linear', sizes: [1, 3, 12], opset: 13 }
)

describe('Resize interpolation matrices reproduce ONNX Runtime forward output', () => {
  it(`for ${specs.filter((s) => s.x.length === 4).length} configurations`, async () => {
    const failures: string[] = []
    for (const s of specs.filter((sp) => sp.x.length === 4)) {
      const c = resizeCase(s)
      const x = randomArray(elementCount(s.x), seeded(3))
      const y = await forward(c, x)
      const ref = resizeByMatrices(c, x, y.dims)
      let maxErr = 0
      for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(ref[i] - y.data[i]))
      // float32 weights and products: anything above 1e-5 is a wrong weight or a wrong pixel, not rounding.
      if (maxErr > 1e-5) failures.push(`${s.name}: max |diff| ${maxErr}`)
    }
    expect(failures).toEqual([])
  })
})

describe('Resize / Upsample backward rule against finite differences', () => {
  it(`for ${specs.length} configurations`, async () => {
    const failures: string[] = []
    for (const s of specs) {
      const { maxErr, scale } = await checkAgainstFiniteDifferences(resizeCase(s))
      if (!(maxErr < FD_TOLERANCE * (1 + scale))) failures.push(`${s.name}: max err ${maxErr}`)
    }
    expect(failures).toEqual([])
  })

  it('refuses antialias and keep_aspect_ratio_policy', () => {
    const base = { x: [1, 1, 4, 4], sizes: [1, 1, 8, 8], opset: 18 }
    for (const [attr, value] of [
      ['antialias', { kind: 'int', value: 1 }],
      ['keep_aspect_ratio_policy', stringAttr('not_larger')]
    ] as [string, IrAttribute][]) {
      const c = resizeCase({ ...base, mode: 'linear' })
      c.node.attributes[attr] = value
      const ctx = {
        node: c.node,
        opset: 18,
        shape: (v: string) => (v === 'x' ? [1, 1, 4, 4] : [1, 1, 8, 8]),
        constant: (v: string) => c.initializers?.[v]
      } as never
      expect(() => spatialRules.Resize(ctx, ['gy'], [true, false, false, false])).toThrow(UnsupportedGradientError)
    }
  })
})
