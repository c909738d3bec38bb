import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isAppError } from '@common/errors'
import { shuffledOrder, splitTrainValidation, type SegmentationData } from '@main/engine/training/data'
import { maskedCrossEntropySum } from '@main/engine/training/loss'
import { computeGradients } from '@main/engine/training/step'
import { evaluate, trainModel, type TrainOptions, type TrainProgress } from '@main/engine/training/trainer'
import { maxAbsDiff, randomArray, tinySegmenter, useCpuBackend } from '../pool/helpers'

/** Trivially learnable: a pixel's class is whether it is brighter than 0.5. */
function thresholdTask(n: number, seed: number, size = 8): SegmentationData {
  const images = randomArray(n * size * size, seed)
  const labels = new Int32Array(images.length)
  for (let i = 0; i < images.length; i++) labels[i] = images[i] > 0.5 ? 1 : 0
  return { images, labels, shape: [n, size, size, 1] }
}

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => Float32Array.from(w.dataSync()))
}

let dir: string
beforeAll(async () => {
  await useCpuBackend()
  dir = mkdtempSync(join(tmpdir(), 'ctxlens-train-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('training pieces', () => {
  it('same seed gives the same shuffling; another seed or epoch another one; always a permutation', () => {
    const items = Int32Array.from({ length: 50 }, (_, i) => i)
    const a = Array.from(shuffledOrder(items, 7, 0))
    expect(Array.from(shuffledOrder(items, 7, 0))).toEqual(a)
    expect(Array.from(shuffledOrder(items, 8, 0))).not.toEqual(a)
    expect(Array.from(shuffledOrder(items, 7, 1))).not.toEqual(a)
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from(items))
    const s = splitTrainValidation(50, 0.2, 3)
    expect(s.validation.length).toBe(10)
    expect(new Set([...s.train, ...s.validation]).size).toBe(50)
  })

  it('the masked cross-entropy sums −log p(label) over valid pixels only', () => {
    const probs = [0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4, 0.25, 0.25, 0.5]
    const labels = [0, 255, 2, 1]
    const s = tf.tidy(() => maskedCrossEntropySum(tf.tensor4d(probs, [1, 2, 2, 3]), tf.tensor3d(labels, [1, 2, 2], 'int32'), 255).dataSync()[0])
    expect(s).toBeCloseTo(-Math.log(0.7) - Math.log(0.4) - Math.log(0.25), 5)
  })

  it('an all-ignored batch has zero gradient; ignored pixels do not change the gradient', () => {
    const model = tinySegmenter({ k: 3, seed: 5 })
    const images = randomArray(2 * 64, 21)
    const shape: [number, number, number, number] = [2, 8, 8, 1]
    const allIgnored = new Int32Array(128).fill(255)
    const g0 = computeGradients(model, images, allIgnored, shape, 255, 0)
    expect(g0.lossSum).toBe(0)
    for (const t of Object.values(g0.grads)) expect(Math.max(...Array.from(t.dataSync()).map(Math.abs))).toBe(0)

    // With half the pixels ignored, the gradient equals that of an independently written loss that only ever
    // looks at the valid pixels (gathered by index), divided by their count.
    const labels = new Int32Array(128)
    const validIdx: number[] = []
    for (let i = 0; i < 128; i++) {
      labels[i] = i % 2 === 0 ? i % 3 : 255
      if (labels[i] !== 255) validIdx.push(i * 3 + labels[i])
    }
    const g = computeGradients(model, images, labels, shape, 255, validIdx.length)
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable)
    const expected = tf.variableGrads(() => {
      const probs = (model.apply(tf.tensor4d(images, shape)) as tf.Tensor).reshape([-1])
      const picked = tf.gather(probs, tf.tensor1d(validIdx, 'int32'))
      return tf.div(tf.neg(tf.sum(tf.log(picked))), validIdx.length) as tf.Scalar
    }, vars)
    for (const v of vars) expect(maxAbsDiff(g.grads[v.name].dataSync(), expected.grads[v.name].dataSync())).toBeLessThan(1e-6)
    expect(Math.max(...Array.from(g.grads[vars[0].name].dataSync()).map(Math.abs))).toBeGreaterThan(1e-4)
    model.dispose()
  })

  it('gradients of batch shares normalised by the whole batch add up to the whole-batch gradient', () => {
    const model = tinySegmenter({ k: 3, seed: 8 })
    const images = randomArray(4 * 64, 31)
    const labels = new Int32Array(256).map((_, i) => (i % 5 === 0 ? 255 : i % 3))
    const valid = labels.filter((v) => v !== 255).length
    const whole = computeGradients(model, images, labels, [4, 8, 8, 1], 255, valid)
    const a = computeGradients(model, images.slice(0, 64), labels.slice(0, 64), [1, 8, 8, 1], 255, valid)
    const b = computeGradients(model, images.slice(64), labels.slice(64), [3, 8, 8, 1], 255, valid)
    for (const name of Object.keys(whole.grads)) {
      const sum = tf.tidy(() => tf.add(a.grads[name], b.grads[name]).dataSync())
      expect(maxAbsDiff(sum, whole.grads[name].dataSync())).toBeLessThan(1e-6)
    }
    expect(a.lossSum + b.lossSum).toBeCloseTo(whole.lossSum, 3)
    model.dispose()
  })

  it('pixel accuracy and mIoU match a hand count; nothing to count gives 0', async () => {
    // labels 0 0 1 1 2 ignored; predictions 0 1 1 1 2 0; class 3 occurs in neither and stays out of the mean.
    const data: SegmentationData = { images: new Float32Array(6), labels: Int32Array.from([0, 0, 1, 1, 2, 255]), shape: [1, 2, 3, 1] }
    const predicted = Int32Array.from([0, 1, 1, 1, 2, 0])
    const engine = { evaluate: async () => ({ lossSum: 0, predicted }) }
    const m = await evaluate(engine, data, [0], { ignoreLabel: 255, numClasses: 4, batchSize: 1 })
    expect(m.pixelAccuracy).toBeCloseTo(4 / 5)
    // IoU: class0 1/2, class1 2/3, class2 1
    expect(m.miou).toBeCloseTo((1 / 2 + 2 / 3 + 1) / 3)
    // Rows are ground truth: the pixel labelled 0 and predicted 1 counts at [0][1], not [1][0].
    expect([m.confusion.counts[1], m.confusion.counts[4]]).toEqual([1, 0])
    const ignored: SegmentationData = { ...data, labels: new Int32Array(6).fill(255) }
    const none = await evaluate(engine, ignored, [0], { ignoreLabel: 255, numClasses: 4, batchSize: 1 })
    expect([none.pixelAccuracy, none.miou]).toEqual([0, 0])
  })
})

describe('trainModel', () => {
  it('learns a trivially learnable task: loss goes down, pixel accuracy up', async () => {
    const model = tinySegmenter({ k: 2, seed: 3 })
    const data = thresholdTask(48, 1)
    const events: TrainProgress[] = []
    const r = await trainModel(model, data, { epochs: 12, batchSize: 8, learningRate: 0.05, seed: 1, validationSplit: 0.25 }, { onProgress: (p) => events.push(p) })
    const first = r.history[0]
    const last = r.history[r.history.length - 1]
    expect(r.history).toHaveLength(12)
    expect(last.trainLoss).toBeLessThan(first.trainLoss / 2)
    expect(last.valPixelAccuracy!).toBeGreaterThan(0.95)
    expect(last.valMiou!).toBeGreaterThan(0.9)
    expect(last.valPixelAccuracy!).toBeGreaterThan(first.valPixelAccuracy!)
    // 36 training images in batches of 8: 5 batch events per epoch, then the epoch's metrics.
    expect(events.filter((e) => e.kind === 'batch')).toHaveLength(60)
    expect(events.filter((e) => e.kind === 'epoch')).toHaveLength(12)
    model.dispose()
  })

  it('early stopping ends training after `patience` epochs without improvement', async () => {
    const model = tinySegmenter({ k: 2, seed: 3 })
    // A zero learning rate freezes the weights (Adam's update is scaled by it), so validation loss never improves.
    const r = await trainModel(model, thresholdTask(16, 2), {
      epochs: 20,
      batchSize: 8,
      learningRate: 0,
      validationSplit: 0.25,
      earlyStopping: { monitor: 'valLoss', patience: 2 }
    })
    expect(r.stoppedEarly).toBe(true)
    expect(r.history).toHaveLength(3)
    expect(r.bestEpoch).toBe(0)
    model.dispose()
  })

  it("restoreBest 'atEnd' ends a run that never stops early with the best epoch's weights", async () => {
    // Validation labels are the inverse of the training task, so validation loss worsens as training succeeds
    // and the best epoch is an early one, not the last.
    const data = thresholdTask(24, 6)
    const validation = thresholdTask(8, 7)
    validation.labels = Int32Array.from(validation.labels, (v) => 1 - v)
    const options = { epochs: 4, batchSize: 8, learningRate: 0.05, seed: 2 }
    const init = tinySegmenter({ k: 2, seed: 13, batchNorm: true })
    const initial = init.getWeights().map((t) => t.clone())
    const run = async (opts: TrainOptions) => {
      const model = tinySegmenter({ k: 2, seed: 13, batchNorm: true })
      model.setWeights(initial)
      const result = await trainModel(model, data, opts, {}, validation)
      const weights = weightsOf(model)
      model.dispose()
      return { result, weights }
    }

    const restored = await run({ ...options, earlyStopping: { monitor: 'valLoss', restoreBest: 'atEnd' } })
    const best = restored.result.bestEpoch!
    expect(restored.result.stoppedEarly).toBe(false)
    expect(restored.result.history).toHaveLength(4)
    expect(best).toBeLessThan(3)
    const losses = restored.result.history.map((h) => h.valLoss!)
    expect(losses[best]).toBe(Math.min(...losses))

    // The same run stopped after the best epoch (the batch order depends only on seed and epoch)...
    const stoppedAtBest = await run({ ...options, epochs: best + 1 })
    // ...and the same run keeping its last epoch, as it does without the option.
    const last = await run({ ...options, earlyStopping: { monitor: 'valLoss' } })
    expect(last.result.bestEpoch).toBeNull()
    for (let i = 0; i < initial.length; i++) expect(maxAbsDiff(restored.weights[i], stoppedAtBest.weights[i])).toBe(0)
    expect(Math.max(...restored.weights.map((w, i) => maxAbsDiff(w, last.weights[i])))).toBeGreaterThan(1e-3)
    init.dispose()
    for (const t of initial) t.dispose()
  })

  it('checkpoint + resume gives the same weights as an uninterrupted run of the same steps', async () => {
    const data = thresholdTask(24, 4)
    const options = { epochs: 3, batchSize: 8, learningRate: 0.01, seed: 9, validationSplit: 0.25 }
    // 18 training images → 3 batches per epoch → 9 steps in all.
    const reference = tinySegmenter({ k: 2, seed: 11, batchNorm: true })
    const initial = reference.getWeights().map((t) => t.clone())
    const full = await trainModel(reference, data, options)
    expect(full.steps).toBe(9)

    const ckDir = join(dir, 'ck1')
    const first = tinySegmenter({ k: 2, seed: 11, batchNorm: true })
    first.setWeights(initial)
    // Stop in the middle of epoch 1 (step 4 = batch 1 of epoch 1), as if the app had been closed.
    const part = await trainModel(first, data, { ...options, maxSteps: 4, checkpointDir: ckDir })
    expect(part.steps).toBe(4)
    expect(existsSync(join(ckDir, 'state.json'))).toBe(true)

    const resumed = tinySegmenter({ k: 2, seed: 99, batchNorm: true }) // different init: the checkpoint must overwrite it
    const rest = await trainModel(resumed, data, { ...options, checkpointDir: ckDir }, { resumeFrom: ckDir })
    expect(rest.resumedFrom).toEqual({ step: 4, epoch: 1, batch: 1 })
    expect(rest.steps).toBe(9)
    const a = weightsOf(reference)
    const b = weightsOf(resumed)
    expect(b).toHaveLength(a.length)
    for (let i = 0; i < a.length; i++) expect(maxAbsDiff(a[i], b[i])).toBeLessThan(1e-5)
    expect(rest.history.map((h) => h.epoch)).toEqual([0, 1, 2])
    expect(rest.history[2].valLoss!).toBeCloseTo(full.history[2].valLoss!, 4)
    for (const m of [reference, first, resumed]) m.dispose()
    for (const t of initial) t.dispose()
  })

  it('cancel stops training with CANCELLED and leaves a checkpoint to resume from', async () => {
    const model = tinySegmenter({ k: 2, seed: 3 })
    const controller = new AbortController()
    const ckDir = join(dir, 'ck2')
    const err = await trainModel(
      model,
      thresholdTask(32, 5),
      { epochs: 50, batchSize: 8, checkpointDir: ckDir, checkpointEvery: 2 },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.kind === 'checkpoint' && p.step === 6) controller.abort()
        }
      }
    ).catch((e: unknown) => e)
    expect(isAppError(err, 'CANCELLED')).toBe(true)
    const resumed = tinySegmenter({ k: 2, seed: 3 })
    const mismatch = await trainModel(resumed, thresholdTask(32, 5), { epochs: 3, batchSize: 4 }, { resumeFrom: ckDir }).catch((e: unknown) => e)
    expect(isAppError(mismatch, 'INVALID_PARAMETERS')).toBe(true)
    const r = await trainModel(resumed, thresholdTask(32, 5), { epochs: 3, batchSize: 8 }, { resumeFrom: ckDir })
    expect(r.resumedFrom).toEqual({ step: 6, epoch: 1, batch: 2 })
    expect(r.steps).toBe(12)
    model.dispose()
    resumed.dispose()
  })

  it('training, checkpointing and resuming leave no tensors behind', async () => {
    const model = tinySegmenter({ k: 2, batchNorm: true })
    const data = thresholdTask(16, 12)
    await trainModel(model, data, { epochs: 1, batchSize: 4, validationSplit: 0.25 })
    const before = tf.memory().numTensors
    const ckDir = join(dir, 'ck3')
    const options = { epochs: 3, batchSize: 4, validationSplit: 0.25, checkpointDir: ckDir, checkpointEvery: 2 }
    await trainModel(model, data, { ...options, earlyStopping: { monitor: 'valLoss' as const, patience: 1 } })
    await trainModel(model, data, { ...options, epochs: 4 }, { resumeFrom: ckDir })
    expect(tf.memory().numTensors).toBe(before)
    model.dispose()
  })
})
