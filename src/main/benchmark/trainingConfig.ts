import { createHash } from 'node:crypto'
import type { BiasStrength, TileLayout } from '@common/textureMnist'

/**
 * Everything that determines a benchmark model's weights. scripts/train-benchmark.ts stores it in the sidecar
 * (training.benchmark) and the runner compares it before reusing a committed model, so a model trained on other
 * data or with other settings is never silently passed off as the one a configuration asks for.
 */
export interface BenchmarkTrainingConfig {
  data: {
    bias: BiasStrength
    biasedDigit: number | null
    biasTexture: number | null
    seed: number
    trainCount: number
    layout: TileLayout
  }
  model: { architecture: 'unet-vgg'; width: number; levels: number; batchNorm: boolean; seed: number }
  train: {
    epochs: number
    batchSize: number
    learningRate: number
    seed: number
    /**
     * Fine-tuning: the weights start from another benchmark model (the unbiased model of the same seed, named by
     * its training key and content hash) instead of the seeded initialisation. Absent for training from scratch, so
     * the keys of every model trained before this field existed stay as they were.
     */
    init?: { trainingKey: string; contentHash: string }
  }
}

/** Stable JSON (sorted keys) so the hash does not depend on property order. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(v)
}

export function hashOf(v: unknown, length = 16): string {
  return createHash('sha256').update(stableStringify(v)).digest('hex').slice(0, length)
}

/** A bias-free configuration ignores digit and texture, so 'none' models match whatever those fields say. */
export function normaliseTrainingConfig(c: BenchmarkTrainingConfig): BenchmarkTrainingConfig {
  const none = c.data.bias === 'none'
  return {
    data: { ...c.data, biasedDigit: none ? null : c.data.biasedDigit, biasTexture: none ? null : c.data.biasTexture },
    model: { ...c.model },
    train: { ...c.train, ...(c.train.init ? { init: { ...c.train.init } } : {}) }
  }
}

export function trainingKey(c: BenchmarkTrainingConfig): string {
  return hashOf(normaliseTrainingConfig(c))
}
