import { rmSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isAppError } from '../../src/common/errors'
import { fsHandler, loadModel } from '../../src/main/engine/modelFiles'
import { describeModel, examineModel } from '../../src/main/modelImport'
import { tempDir } from '../helpers/tempdir'

/** A user's tfjs folder ending in logits (no softmax), with no ctxlens.model.json: described, checked, loaded. */
const dir = tempDir()
const folder = join(dir.path, 'logits-model')
afterAll(() => dir.cleanup())

beforeAll(async () => {
  await tf.setBackend('cpu')
  const input = tf.input({ shape: [6, 6, 3] })
  const out = tf.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'linear', kernelInitializer: tf.initializers.constant({ value: 3 }), biasInitializer: tf.initializers.constant({ value: -2 }) }).apply(input) as tf.SymbolicTensor
  const model = tf.model({ inputs: input, outputs: out })
  await model.save(fsHandler(folder))
  model.dispose()
  rmSync(join(folder, 'ctxlens.model.json'), { force: true })
})

describe('a tfjs folder ending in logits', () => {
  it('reads the fixed input from the model and is refused as probabilities', async () => {
    const e = await examineModel(folder, { classes: ['a', 'b'], normalise: 'range:0,1', output: 'probabilities' })
    expect(e.inspection).toMatchObject({ runtime: 'tfjs', modelFormat: 'layers-model', layout: 'NHWC', fixedInput: { height: 6, width: 6, channels: 3 } })
    expect(e.checks.find((c) => c.status === 'error')).toMatchObject({ id: 'output-kind', code: 'MODEL_NOT_PROBABILITIES' })
    expect(e.description).toBeNull()
  })

  it('names the flags it still needs', async () => {
    try {
      await describeModel(folder, { classes: ['a', 'b'] })
      throw new Error('expected a refusal')
    } catch (err) {
      expect(isAppError(err) && err.code).toBe('INVALID_PARAMETERS')
      expect((err as Error).message).toContain('--normalise')
    }
  })

  it('described as logits, it gets a softmax and passes the checks; later flags merge onto the stored description', async () => {
    const { description } = await describeModel(folder, { classes: ['a', 'b'], normalise: 'range:0,1', output: 'logits' })
    expect(description).toMatchObject({ output: 'logits', architecture: 'tfjs layers-model', modelFormat: 'layers-model' })
    const loaded = await loadModel(folder)
    try {
      const y = tf.tidy(() => loaded.predict(tf.fill([1, 6, 6, 3], 0.5)).sum(-1))
      const sums = await y.data()
      y.dispose()
      for (const s of sums) expect(s).toBeCloseTo(1, 5)
    } finally {
      loaded.dispose()
    }
    // Described once: a later change of one flag keeps the rest.
    const renamed = await describeModel(folder, { classes: ['left', 'right'] })
    expect(renamed.description).toMatchObject({ output: 'logits', normalisation: { kind: 'range', min: 0, max: 1 }, classes: [{ name: 'left' }, { name: 'right' }] })
  })

})
