import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { ModelSidecar } from '@common/modelSidecar'
import { readSidecar } from '../engine/modelFiles'
import type { PlannedModel } from './config'
import { findMatchingModel, missingCommittedModel, modelName, sidecarMatches, trainCommandFor } from './committedModels'
import type { RunContext } from './plan'
import { trainBenchmarkModel } from './train'
import { trainingKey } from './trainingConfig'

export interface ResolvedModel {
  params: number | null
  /** As resolved: a fine-tuned model's plan names the start's key and content hash. */
  plan: PlannedModel
  /** The entry of planModels it resolves (what the explanation pairs refer to). */
  origin: PlannedModel
  key: string
  dir: string
  sidecar: ModelSidecar
  source: 'committed' | 'trained'
}

/** Parameter count from the training log the trainer writes beside the weights (null without one). */
async function paramsOf(dir: string): Promise<number | null> {
  try {
    const log = JSON.parse(await readFile(join(dir, 'training-log.json'), 'utf8')) as { network?: { params?: number } }
    return typeof log.network?.params === 'number' ? log.network.params : null
  } catch {
    return null
  }
}

/** A model trained by an earlier run under the same root (or, for runs made before models were shared, in this run's folder). */
async function trainedEarlier(run: RunContext, plan: PlannedModel, name: string, key: string): Promise<{ dir: string; sidecar: ModelSidecar } | null> {
  for (const candidate of [resolve(run.outRoot, 'models', `${name}-${key}`), join(run.runDir, 'models', `${name}-${key}`)]) {
    if (!existsSync(join(candidate, 'ctxlens.model.json'))) continue
    const sidecar = await readSidecar(candidate).catch(() => null)
    if (sidecar && sidecarMatches(sidecar, plan.training, run.config.data.valCount)) return { dir: candidate, sidecar }
  }
  return null
}

/**
 * Phase 1: every planned model, committed when one matches, else trained earlier under the same root, else
 * trained now (resuming from its checkpoint). Returns them with how many were trained now.
 */
export async function resolveModels(run: RunContext, planned: PlannedModel[], committedRoot: string): Promise<{ models: ResolvedModel[]; trained: number }> {
  const { config, say } = run
  const resolved: ResolvedModel[] = []
  let trained = 0
  for (const planned0 of planned) {
    run.check()
    const start = planned0.fineTuneSeed === undefined ? null : resolved.find((r) => r.plan.training.data.bias === 'none' && r.plan.training.data.seed === planned0.fineTuneSeed)
    if (planned0.fineTuneSeed !== undefined && !start) throw new Error(`no unbiased model of seed ${planned0.fineTuneSeed} to fine-tune from`)
    const plan: PlannedModel = start
      ? { ...planned0, training: { ...planned0.training, train: { ...planned0.training.train, init: { trainingKey: start.key, contentHash: start.sidecar.contentHash } } } }
      : planned0
    const key = trainingKey(plan.training)
    const name = modelName(plan.training)
    const progress = run.phase(`model ${name}`)
    const source = config.training.source
    const found = source === 'train' ? null : await findMatchingModel(committedRoot, plan.training, config.data.valCount)
    if (found) {
      resolved.push({ plan, origin: planned0, key, dir: found.dir, sidecar: found.sidecar, source: 'committed', params: await paramsOf(found.dir) })
      say(`model ${name}: committed ${found.dir}`)
      progress(1, 1)
      continue
    }
    if (source === 'committed') throw missingCommittedModel(committedRoot, plan.training, config.data.valCount)
    // Trained models live beside the run folders, keyed by their training config, so every run under the same
    // root shares them (a subset of the sweep reuses the sweep's models).
    const earlier = await trainedEarlier(run, plan, name, key)
    if (earlier) {
      run.cache.hits++
      resolved.push({ plan, origin: planned0, key, dir: earlier.dir, sidecar: earlier.sidecar, source: 'trained', params: await paramsOf(earlier.dir) })
      say(`model ${name}: trained earlier in ${earlier.dir}`)
      progress(1, 1)
      continue
    }
    say(`model ${name}: training (${trainCommandFor(name, plan.training, config.data.valCount)})`)
    const dir = resolve(run.outRoot, 'models', `${name}-${key}`)
    const checkpointDir = resolve(run.outRoot, 'checkpoints', `${name}-${key}`)
    const { epochs } = plan.training.train
    const { sidecar } = await trainBenchmarkModel({
      pool: run.pool,
      config: plan.training,
      valCount: config.data.valCount,
      name,
      outDir: dir,
      checkpointDir,
      resume: existsSync(join(checkpointDir, 'state.json')),
      ...(start ? { initFrom: start.dir } : {}),
      command: `ctxlens benchmark (run ${config.name}-${run.hash}); equivalent: ${trainCommandFor(name, plan.training, config.data.valCount)}`,
      signal: run.signal,
      log: say,
      onProgress: (p) => {
        if (p.kind === 'batch') progress(p.epoch * p.batches + p.batch + 1, epochs * p.batches)
      }
    })
    trained++
    resolved.push({ plan, origin: planned0, key, dir, sidecar, source: 'trained', params: await paramsOf(dir) })
  }
  return { models: resolved, trained }
}
