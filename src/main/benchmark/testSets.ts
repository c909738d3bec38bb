import { AppError } from '@common/errors'
import type { BenchmarkConfig } from '@common/benchmark'
import { TEXTURE_MNIST_SIZE, type BiasStrength, type TextureMnistMeta, type TextureMnistSpecInput } from '@common/textureMnist'
import { generateTextureMnistArrays } from '../datasets/textureMnist'

const PX = TEXTURE_MNIST_SIZE * TEXTURE_MNIST_SIZE
/** The MNIST test split holds 10,000 digits; the test split of every benchmark spec is sized to all of them. */
const TEST_SPLIT_SIZE = 10_000

export interface TestImages {
  description: string
  count: number
  /** count × 64 × 64 in [0, 1]: the models' input units. */
  images: Float32Array
  labels: Uint8Array
  meta: TextureMnistMeta[]
  /** Index of each image in its split, for the records. */
  indices: number[]
}

function testSpec(config: BenchmarkConfig, bias: BiasStrength, digit: number | null, texture: number | null): TextureMnistSpecInput {
  return {
    trainCount: 0,
    testCount: TEST_SPLIT_SIZE,
    bias,
    biasedDigit: bias === 'none' ? null : digit,
    biasTexture: bias === 'none' ? null : texture,
    // The dataset seed does not reach the test split when testSeed is set: every model sees the same images.
    seed: 0,
    testSeed: config.data.testSeed,
    layout: config.data.layout
  }
}

/** The unbiased test set of Fig. 4a: the first evalCount images of the unbiased test split. */
export async function unbiasedTestSet(config: BenchmarkConfig, signal?: AbortSignal): Promise<TestImages> {
  const spec = testSpec(config, 'none', null, null)
  const a = await generateTextureMnistArrays(spec, 'test', { count: config.data.evalCount, signal })
  return {
    description: `unbiased test split, testSeed ${config.data.testSeed}, ${a.count} images`,
    count: a.count,
    images: a.images,
    labels: a.labels,
    meta: a.meta,
    indices: a.meta.map((m) => m.index)
  }
}

/**
 * The test images to explain: the first `perDigit` images of every digit, in split order, of the test split of a
 * biased dataset (the paper measures CBD/CBL on the biased test set, where C_bias exists for the biased digit).
 */
export async function explainTestSet(
  config: BenchmarkConfig,
  bias: BiasStrength,
  digit: number | null,
  texture: number | null,
  signal?: AbortSignal
): Promise<TestImages> {
  const perDigit = config.data.explainPerDigit
  const wanted = (d: number): number => (d === digit ? Math.max(perDigit, config.data.explainBiasedDigit ?? 0) : perDigit)
  const spec = testSpec(config, bias, digit, texture)
  const picked: number[][] = Array.from({ length: 10 }, () => [])
  const images: Float32Array[] = []
  const labels: Uint8Array[] = []
  const meta: TextureMnistMeta[] = []
  const chunk = Math.max(200, perDigit * 20)
  for (let start = 0; picked.some((p, d) => p.length < wanted(d)); start += chunk) {
    if (start >= TEST_SPLIT_SIZE) {
      throw new AppError('INVALID_PARAMETERS', `the test split has fewer than ${perDigit} images of some digit`)
    }
    const a = await generateTextureMnistArrays(spec, 'test', { start, count: Math.min(chunk, TEST_SPLIT_SIZE - start), signal })
    for (let i = 0; i < a.count; i++) {
      const m = a.meta[i]
      if (picked[m.digit].length >= wanted(m.digit)) continue
      picked[m.digit].push(m.index)
      images.push(a.images.slice(i * PX, (i + 1) * PX))
      labels.push(a.labels.slice(i * PX, (i + 1) * PX))
      meta.push(m)
    }
  }
  const n = meta.length
  const img = new Float32Array(n * PX)
  const lab = new Uint8Array(n * PX)
  images.forEach((v, i) => img.set(v, i * PX))
  labels.forEach((v, i) => lab.set(v, i * PX))
  const what = bias === 'none' ? 'unbiased' : `${bias} bias, digit ${digit}, texture ${texture}`
  return {
    description: `${what} test split, testSeed ${config.data.testSeed}, ${perDigit} images per digit` + (digit !== null && wanted(digit) > perDigit ? ` (${wanted(digit)} of digit ${digit})` : ''),
    count: n,
    images: img,
    labels: lab,
    meta,
    indices: meta.map((m) => m.index)
  }
}
