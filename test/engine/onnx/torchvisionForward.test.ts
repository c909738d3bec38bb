import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { fixtureInput, loadFixtureBytes, loadManifest, readReference, regenerateFixtureInput } from './fixtures/torchvisionFixtures'

/**
 * Proves the torchvision fixtures: the graphs with weights regenerated in TypeScript, run on ONNX Runtime in
 * float32, give PyTorch's float64 logits. A wrong PRNG, a wrong weight rule or a mismatched initializer would
 * put the error near 100%, not at float32 rounding.
 */

const manifest = loadManifest()

/** max |a − b| / max |b|: the logits are O(1) and change sign, so an elementwise relative error would be meaningless near 0. */
function relativeMaxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0
  let scale = 0
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]))
    scale = Math.max(scale, Math.abs(b[i]))
  }
  return err / scale
}

describe('torchvision fixtures', () => {
  it('regenerates the committed input image bit for bit from its seed (the PRNG matches numpy)', () => {
    const stored = fixtureInput(manifest)
    const regenerated = regenerateFixtureInput(manifest)
    expect(regenerated.length).toBe(stored.length)
    let mismatches = 0
    for (let i = 0; i < stored.length; i++) if (regenerated[i] !== stored[i]) mismatches++
    expect(mismatches).toBe(0)
  })

  it('covers every architecture the issue names, each committed file small', () => {
    expect(manifest.models.map((m) => m.architecture).sort()).toEqual(
      ['deeplabv3_mobilenet_v3_large', 'deeplabv3_resnet50', 'fcn_resnet50', 'lraspp_mobilenet_v3_large', 'lraspp_mobilenet_v3_large'].sort()
    )
    expect(manifest.models.map((m) => m.opset).sort()).toEqual([13, 17, 17, 17, 17])
  })

  for (const entry of manifest.models) {
    it(`${entry.id}: ONNX Runtime forward of the regenerated weights matches PyTorch float64 logits (max error < 1e-4 of max |logit|)`, async () => {
      const session = await ort.InferenceSession.create(loadFixtureBytes(entry), { intraOpNumThreads: 1 })
      try {
        const x = fixtureInput(manifest)
        const out = await session.run({ [entry.inputName]: new ort.Tensor('float32', x, [1, 3, manifest.height, manifest.width]) })
        const logits = out[entry.outputName]
        const reference = readReference(entry.references.logits)
        expect(logits.dims).toEqual(entry.references.logits.dims)
        const err = relativeMaxError(logits.data as Float32Array, reference)
        // Measured 2026-12-02: 0.7e-6 to 2.9e-6 (float32 accumulation over ≤ 50 layers); 1e-4 leaves room for other CPUs.
        expect(err).toBeLessThan(1e-4)
        // The fixture is informative only if the logits are not saturated or constant.
        expect(entry.stats.logitsStd).toBeGreaterThan(0.1)
        expect(entry.stats.probMax).toBeLessThan(0.99)
      } finally {
        await session.release()
      }
    })
  }
})
