import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '@main/engine/backend'
import { exportModelFolder } from '@main/engine/export/exportModelFolder'
import { loadModel } from '@main/engine/modelFiles'
import { compareWithOrt, range } from './helpers'

/**
 * The committed ONNX files are exports of the committed tfjs models: the same bytes as a fresh export (so a
 * retrained model with a stale .onnx fails here), and the same probabilities on ONNX Runtime as tfjs-wasm gives.
 * Regenerate with `ctxlens models export-onnx --model DIR --out DIR/model.onnx`.
 */
const ROOT = join(import.meta.dirname, '../../../resources')
const MODELS = ['demo-model', 'benchmark-models/strong-d2-t3']

beforeAll(async () => {
  await initBackend({ flag: 'wasm' })
})

describe('committed ONNX exports', () => {
  for (const dir of MODELS) {
    it(`${dir}/model.onnx is a fresh export of its tfjs model, byte for byte`, async () => {
      const committed = new Uint8Array(await readFile(join(ROOT, dir, 'model.onnx')))
      const fresh = await exportModelFolder(join(ROOT, dir))
      expect(fresh.bytes.length).toBe(committed.length)
      expect(Buffer.from(fresh.bytes).equals(Buffer.from(committed))).toBe(true)
    })

    it(`${dir}/model.onnx on ONNX Runtime gives tfjs's probabilities and logits`, async () => {
      const loaded = await loadModel(join(ROOT, dir))
      const model = loaded.model as tf.LayersModel
      const committed = new Uint8Array(await readFile(join(ROOT, dir, 'model.onnx')))
      // Inputs over the model's whole input range (these models take 0..1).
      const probs = await compareWithOrt(model, 4, 5, [0, 1], committed)
      expect(probs.dims).toEqual([4, ...(model.outputs[0].shape.slice(1) as number[])])
      // A trained model's probabilities are mostly saturated; its logits show small errors.
      const logits = await compareWithOrt(tf.model({ inputs: model.inputs, outputs: model.getLayer('classifier').output as tf.SymbolicTensor }), 4, 5)
      console.log(`${dir}: max |ORT − tfjs-wasm| probabilities ${probs.maxAbsDiff.toExponential(2)}, logits ${logits.maxAbsDiff.toExponential(2)} (logits span ${range(logits.tfjs).map((v) => v.toFixed(1)).join('..')})`)
      expect(probs.maxAbsDiff).toBeLessThan(1e-4)
      expect(logits.maxAbsDiff).toBeLessThan(1e-4)
      loaded.dispose()
    })
  }
})
