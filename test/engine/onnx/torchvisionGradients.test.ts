import { existsSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { beforeAll, describe, expect, it } from 'vitest'
import type { IrModel } from '@main/engine/onnx/ir'
import {
  type FixtureModelEntry,
  fixtureInput,
  loadFixtureModel,
  loadManifest,
  nchwToNhwc,
  readReference,
  requestMask
} from './fixtures/torchvisionFixtures'

/**
 * The gradient builder's objective graphs on the real torchvision architectures, against PyTorch autograd in
 * float64 on the same weights (scripts/fixtures/export_torchvision_fixtures.py):
 * - scoreGradient: S(x,R,c) = Σ(R∘softmax_c)/ΣR and ∂S/∂x, NHWC;
 * - perturbation (grid saliency, baseline 0): loss = λ·ΣM + Σ(R·relu(f_c(x) − f_c(p)))/ΣR, its terms and ∂loss/∂M.
 */

// TEMPORARY (issue #13 item 5, fixtures branch): src/main/engine/onnx/objectives.ts is being written on another
// branch. Until it is merged this suite skips; AT INTEGRATION delete this skipIf and the dynamic import below
// (import buildObjectiveGraph statically) so a missing or broken builder fails the suite instead of hiding.
// Checked before merging: with the committed onnxcore (07ad592) and onnxspatial (d36b5c2) sources copied in, all
// 12 tests pass (the BN-folded LR-ASPP included: gradImages 1.8e-6, gradMasks 0.8e-6).
const OBJECTIVES_MODULE = join(import.meta.dirname, '../../../src/main/engine/onnx/objectives.ts')
const builderMissing = !existsSync(OBJECTIVES_MODULE)

/** The builder's signature as agreed in issue #13 (src/main/engine/onnx/objectives.ts). */
type BuildObjectiveGraph = (
  model: IrModel,
  description: { layout: 'NCHW' | 'NHWC'; output: 'logits' | 'probabilities'; numClasses: number },
  kind: 'perturbation' | 'scoreGradient',
  geometry: { batch: number; height: number; width: number; channels: number; maskHeight?: number; maskWidth?: number }
) => Promise<Uint8Array>

const manifest = loadManifest()
const { height: H, width: W, numClasses: K, classId } = manifest
const C = 3

function maxAbs(a: ArrayLike<number>): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]))
  return m
}

/** max |a − b| / max |b|. */
function relativeMaxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0
  for (let i = 0; i < b.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]))
  return err / maxAbs(b)
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0
  let aa = 0
  let bb = 0
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i]
    aa += a[i] * a[i]
    bb += b[i] * b[i]
  }
  return ab / Math.sqrt(aa * bb)
}

const description = { layout: 'NCHW' as const, output: 'logits' as const, numClasses: K }
const f32 = (data: ArrayLike<number>, dims: number[]): ort.Tensor => new ort.Tensor('float32', Float32Array.from(data), dims)

async function runObjective(build: BuildObjectiveGraph, entry: FixtureModelEntry, kind: 'perturbation' | 'scoreGradient', feeds: Record<string, ort.Tensor>) {
  const geometry = { batch: 1, height: H, width: W, channels: C, maskHeight: manifest.masks.height, maskWidth: manifest.masks.width }
  const bytes = await build(loadFixtureModel(entry), description, kind, geometry)
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 })
  try {
    return await session.run(feeds)
  } finally {
    await session.release()
  }
}

describe.skipIf(builderMissing)('gradient builder on torchvision architectures vs PyTorch float64 autograd', () => {
  let build: BuildObjectiveGraph
  const images = nchwToNhwc(fixtureInput(manifest), C, H, W)
  const request = requestMask(manifest)
  const oneHot = Array.from({ length: K }, (_, k) => (k === classId ? 1 : 0))

  beforeAll(async () => {
    // A computed specifier so that tsc does not resolve the module while it lives on another branch (see above).
    build = ((await import(/* @vite-ignore */ OBJECTIVES_MODULE)) as { buildObjectiveGraph: BuildObjectiveGraph }).buildObjectiveGraph
  })

  for (const entry of manifest.models) {
    describe(entry.id, () => {
      it('scoreGradient: S(x,R,c) and ∂S/∂x (NHWC) match PyTorch', async () => {
        const out = await runObjective(build, entry, 'scoreGradient', {
          images: f32(images, [1, H, W, C]),
          request: f32(request, [1, H, W]),
          classOneHot: f32(oneHot, [1, K])
        })
        expect(out.score.data[0] as number).toBeCloseTo(entry.score, 5)
        const reference = readReference(entry.references.scoreGradient)
        const grad = out.gradImages.data as Float32Array
        expect(out.gradImages.dims).toEqual([1, H, W, C])
        // float32 forward and backward through ≤ 50 layers against float64. Measured 2026-12-02 (onnxcore 07ad592 with
        // onnxspatial d36b5c2): 0.8e-6..5.3e-6, 1 − cosine ≤ 1e-11.
        expect(relativeMaxError(grad, reference)).toBeLessThan(1e-4)
        expect(cosine(grad, reference)).toBeGreaterThan(1 - 1e-8)
      })

      it('perturbation: loss terms and ∂loss/∂M of the grid-saliency objective match PyTorch', async () => {
        const p = entry.perturbation
        const probs = readReference(entry.references.probs) // [1, K, H, W]
        const originalProb = probs.subarray(classId * H * W, (classId + 1) * H * W)
        const masks = readReference(manifest.masks)
        const out = await runObjective(build, entry, 'perturbation', {
          masks: f32(masks, [1, manifest.masks.height, manifest.masks.width]),
          images: f32(images, [1, H, W, C]),
          start: f32(new Float32Array(H * W * C), [1, H, W, C]),
          request: f32(request, [1, H, W]),
          classOneHot: f32(oneHot, [1, K]),
          originalProb: f32(originalProb, [1, H, W]),
          lambda: f32([manifest.lambda], [1]),
          clipLow: f32([p.clipLow], [1]),
          clipHigh: f32([p.clipHigh], [1])
        })
        expect(out.maskL1.data[0] as number).toBeCloseTo(p.maskL1, 4)
        expect(out.score.data[0] as number).toBeCloseTo(p.score, 5)
        expect(out.preservation.data[0] as number).toBeCloseTo(p.preservation, 5)
        expect(out.loss.data[0] as number).toBeCloseTo(p.loss, 4)
        // λ is the same in every cell and would dominate where little is lost (DeepLabv3-ResNet50: preservation 3e-4),
        // so the model's part of the gradient, ∂preservation/∂M, is compared on its own scale.
        const reference = Array.from(readReference(entry.references.gradMasks), (g) => g - manifest.lambda)
        const grad = Array.from(out.gradMasks.data as Float32Array, (g) => g - manifest.lambda)
        expect(out.gradMasks.dims).toEqual([1, manifest.masks.height, manifest.masks.width])
        // Measured 2026-12-02: 0.3e-6..3.2e-6, 1 − cosine ≤ 1e-11. The bound is looser than the measurement because a
        // pixel of R whose shortfall is within float32 noise of 0 (the relu kink; stats.minAbsShortfallInR is 2.4e-7
        // for FCN) may fall on the other side on another CPU and move its cells by about 1/ΣR of one pixel's share;
        // a wrong backward rule moves them by far more.
        expect(relativeMaxError(grad, reference)).toBeLessThan(1e-3)
        expect(cosine(grad, reference)).toBeGreaterThan(1 - 1e-6)
      })
    })
  }
})
