import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { AppError } from '@common/errors'
import type { ModelSidecar } from '@common/modelSidecar'
import { readSidecar } from '../engine/modelFiles'
import { appRoot } from '../paths'
import { trainingKey, type BenchmarkTrainingConfig } from './trainingConfig'

/** Where scripts/train-benchmark.ts saves the models the repository commits. */
export function committedModelsRoot(): string {
  return process.env.CTXLENS_BENCHMARK_MODELS ?? join(appRoot(), 'resources', 'benchmark-models')
}

export interface FoundModel {
  dir: string
  sidecar: ModelSidecar
}

/**
 * True when a sidecar was written by the benchmark trainer for this very configuration: the same training
 * config (data, network, optimisation) and the same validation split, which picks the saved epoch.
 */
export function sidecarMatches(sidecar: ModelSidecar, want: BenchmarkTrainingConfig, valCount: number): boolean {
  const t = sidecar.training as Record<string, unknown> | undefined
  const recorded = t?.benchmark as BenchmarkTrainingConfig | undefined
  if (!recorded?.data || !recorded.model || !recorded.train) return false
  const spec = t?.datasetSpec as { testCount?: number } | undefined
  return trainingKey(recorded) === trainingKey(want) && spec?.testCount === valCount
}

/** Every model folder under `root` (one level deep) whose sidecar matches; the first in name order. */
export async function findMatchingModel(root: string, want: BenchmarkTrainingConfig, valCount: number): Promise<FoundModel | null> {
  if (!existsSync(root)) return null
  const names = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort()
  for (const name of names) {
    const dir = join(root, name)
    let sidecar: ModelSidecar
    try {
      sidecar = await readSidecar(dir)
    } catch {
      continue
    }
    if (sidecarMatches(sidecar, want, valCount)) return { dir, sidecar }
  }
  return null
}

/** What `--bias ... --digit ...` arguments reproduce a configuration, for error messages and logs. */
export function trainCommandFor(name: string, c: BenchmarkTrainingConfig, valCount: number): string {
  const d = c.data
  const parts = ['npx tsx scripts/train-benchmark.ts', `--name ${name}`, `--bias ${d.bias}`]
  if (d.bias !== 'none') parts.push(`--digit ${d.biasedDigit}`, `--texture ${d.biasTexture}`)
  parts.push(
    `--seed ${d.seed}`,
    `--train ${d.trainCount}`,
    `--val ${valCount}`,
    `--epochs ${c.train.epochs}`,
    `--width ${c.model.width}`,
    `--levels ${c.model.levels}`,
    `--batch ${c.train.batchSize}`,
    `--lr ${c.train.learningRate}`
  )
  return parts.join(' ')
}

export function modelName(c: BenchmarkTrainingConfig): string {
  const d = c.data
  return d.bias === 'none' ? `N-s${d.seed}` : `${d.bias}-d${d.biasedDigit}-t${d.biasTexture}-s${d.seed}`
}

export function missingCommittedModel(root: string, c: BenchmarkTrainingConfig, valCount: number): AppError {
  return new AppError(
    'NOT_FOUND',
    `no committed benchmark model in ${root} matches ${modelName(c)} (key ${trainingKey(c)}); train it with: ` +
      trainCommandFor(modelName(c), c, valCount),
    { key: trainingKey(c), root }
  )
}
