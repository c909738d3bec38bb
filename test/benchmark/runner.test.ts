import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BenchmarkConfigInput } from '@common/benchmark'
import type { TextureMnistMeta } from '@common/textureMnist'
import { AppError, isAppError } from '@common/errors'
import { configHash, parseBenchmarkConfig, planModels, presetConfig, readBenchmarkConfig, withSanityCheck } from '@main/benchmark/config'
import { summaryRows } from '@main/benchmark/output'
import { runDirFor } from '@main/benchmark/plan'
import { runBenchmark, type BenchmarkProgress } from '@main/benchmark/runner'
import { EnginePool } from '@main/engine/pool/pool'
import { engineHandlerModules } from '@main/engineHandlers'
import { aggregateContextBias } from '@main/metrics'

function errorOf(fn: () => unknown): AppError {
  try {
    fn()
  } catch (err) {
    if (isAppError(err)) return err as AppError
    throw err
  }
  throw new Error('expected an error')
}

describe('benchmark config', () => {
  it('fills the defaults and accepts the presets', () => {
    const c = parseBenchmarkConfig({ experiments: [{ bias: 'strong', biasedDigits: [2], textures: [3], seeds: [0] }] })
    expect(c.model.levels).toBe(4)
    expect(c.saliency.methods).toEqual(['context', 'vg', 'ig', 'sg'])
    expect(c.saliency.context.steps).toBe(100)
    expect(presetConfig('quick').training.source).toBe('committed')
    expect(planModels(presetConfig('paper-small')).map((m) => m.row)).toEqual(['N', '2', '5', '2'])
    // Seed by seed: the unbiased model of a seed before its biased models.
    const sweep = planModels(presetConfig('sweep')).map((m) => `${m.row}-s${m.training.data.seed}`)
    expect(sweep).toHaveLength(2 + 36)
    expect(sweep.slice(0, 2)).toEqual(['N-s0', '0-s0'])
    expect(sweep.indexOf('N-s1')).toBe(19)
  })

  it('names every bad field in one INVALID_PARAMETERS error', () => {
    const e = errorOf(() =>
      parseBenchmarkConfig({
        experiments: [{ bias: 'strong', biasedDigits: [2, 2, 11], textures: [30], seeds: [0] }],
        saliency: { methods: ['context', 'gradcam'] },
        extra: true
      })
    )
    expect(e.code).toBe('INVALID_PARAMETERS')
    expect(e.message).toContain('experiments.0.biasedDigits.2')
    expect(e.message).toContain('lists a biased digit twice')
    expect(e.message).toContain('experiments.0.textures.0')
    expect(e.message).toContain('saliency.methods.1')
    expect(e.message).toMatch(/extra/)
  })

  it('refuses a config with nothing to run, and a bias without digits', () => {
    expect(errorOf(() => parseBenchmarkConfig({ unbiased: false })).message).toContain('nothing to run')
    expect(errorOf(() => parseBenchmarkConfig({ experiments: [{ bias: 'weak', biasedDigits: [], textures: [3], seeds: [0] }] })).message).toContain(
      'needs at least one biased digit'
    )
  })

  it('reads a config file, saying which file is broken and how', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctxlens-bench-cfg-'))
    try {
      writeFileSync(join(dir, 'bad.json'), '{ "experiments": [ }')
      await expect(readBenchmarkConfig(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json is not valid JSON/)
      await expect(readBenchmarkConfig(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'NOT_FOUND' })
      writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ data: { evalCount: 'many' } }))
      await expect(readBenchmarkConfig(join(dir, 'wrong.json'))).rejects.toThrow(/wrong\.json: data\.evalCount/)
      writeFileSync(join(dir, 'ok.json'), JSON.stringify({ name: 'mine', unbiased: true }))
      expect((await readBenchmarkConfig(join(dir, 'ok.json'))).name).toBe('mine')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('hashes what changes numbers, not the name', () => {
    const a = parseBenchmarkConfig({ name: 'a' })
    expect(configHash(parseBenchmarkConfig({ name: 'b' }))).toBe(configHash(a))
    expect(configHash(parseBenchmarkConfig({ name: 'a', data: { explainPerDigit: 3 } }))).not.toBe(configHash(a))
    // The sanity check's units carry their own keys: switching it off must not move the run to a new folder.
    expect(configHash(withSanityCheck(a, false))).toBe(configHash(a))
    expect(configHash(parseBenchmarkConfig({ name: 'a', sanityCheck: { requests: 3, stages: [1] } }))).toBe(configHash(a))
  })

  it('runs the sanity check by default, and --no-sanity-check (only) turns it off', async () => {
    expect(parseBenchmarkConfig({}).sanityCheck).toEqual({ enabled: true, requests: 6, stages: ['top', 0.5, 1], seed: 0 })
    expect(presetConfig('quick').sanityCheck.enabled).toBe(true)
    expect(withSanityCheck(presetConfig('quick'), false).sanityCheck.enabled).toBe(false)
    expect(withSanityCheck(parseBenchmarkConfig({ sanityCheck: { enabled: false } }), undefined).sanityCheck.enabled).toBe(false)
    const { buildProgram } = await import('@main/cli/program')
    const { benchmarkRunInput } = await import('@main/cli/commands/benchmark')
    const options = (...args: string[]) => {
      const cmd = buildProgram('0.0.0').commands.find((c) => c.name() === 'benchmark')!
      cmd.parseOptions(args)
      return cmd.opts()
    }
    expect(benchmarkRunInput(options('--preset', 'quick', '--no-sanity-check'))).toEqual({ preset: 'quick', sanityCheck: false })
    // Without the flag the config decides: nothing is sent, so a config file that turns the check off stays off.
    expect(benchmarkRunInput(options('--config', 'c.json'))).toEqual({ configFile: resolve('c.json') })
    expect(errorOf(() => benchmarkRunInput(options('--no-sanity-check'))).message).toContain('give --preset')
  })
})

describe('summary rows', () => {
  it('reads the diagonal against the other digits of the same row, and row N as the control', () => {
    const rec = (biasedDigit: number | null, digit: number, cbd: number, cbl: number | null) => ({ biasedDigit, digit, texture: 3, seed: 0, cbd, cbl })
    const records = [rec(2, 2, 0.4, 0.95), rec(2, 3, 0.1, null), rec(2, 4, 0.2, null), rec(null, 2, 0.1, 0.5), rec(null, 3, 0.1, null)]
    const { cbd, cbl } = aggregateContextBias(records)
    const config = parseBenchmarkConfig({ experiments: [{ bias: 'strong', biasedDigits: [2], textures: [3], seeds: [0] }] })
    const rows = summaryRows([{ method: 'context', cbd, cbl }], config)
    expect(rows.map((r) => r.row)).toEqual(['N', '2'])
    expect(rows[1].mcbdBiased).toBeCloseTo(0.4)
    expect(rows[1].mcbdOthers).toBeCloseTo(0.15)
    expect(rows[1].mcblBiased).toBeCloseTo(0.95)
    expect(rows[0].mcblBiased).toBeCloseTo(0.5)
  })
})

/** A run small enough for a unit test: a 2-pooling U-Net at width 1/8, trained for one epoch on 32 images. */
const tiny: BenchmarkConfigInput = {
  name: 'tiny',
  experiments: [{ bias: 'strong', biasedDigits: [2], textures: [3], seeds: [0] }],
  unbiased: true,
  data: { trainCount: 32, valCount: 8, evalCount: 20, explainPerDigit: 1, minRequestArea: 1 },
  model: { width: 0.125, levels: 2 },
  training: { source: 'train', epochs: 1, batchSize: 16 },
  // Ground-truth requests: a model this small predicts no digit yet, which would leave nothing to explain.
  saliency: { methods: ['context', 'vg', 'ig'], context: { steps: 3 }, igSteps: 2, request: 'ground-truth' },
  sanityCheck: { requests: 2, stages: ['top', 1] }
}

describe('benchmark runner on a tiny configuration', () => {
  let pool: EnginePool
  let root: string
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ctxlens-bench-run-'))
    pool = await EnginePool.create(2, { backend: 'wasm', handlerModules: engineHandlerModules() })
  })
  afterAll(async () => {
    await pool?.dispose()
    rmSync(root, { recursive: true, force: true })
  })

  it('refuses a committed-only run whose model is not committed, with the command that trains it', async () => {
    const config = parseBenchmarkConfig({ ...tiny, training: { ...tiny.training, source: 'committed' } })
    const err = await runBenchmark({ pool, config, outRoot: root, committedRoot: join(root, 'none') }).catch((e) => e)
    expect(err).toMatchObject({ code: 'NOT_FOUND' })
    expect(err.message).toContain('npx tsx scripts/train-benchmark.ts --name N-s0 --bias none')
  })

  it('trains, evaluates, explains and writes JSON, CSV and figures; a stopped run resumes from its units', async () => {
    const config = parseBenchmarkConfig(tiny)
    // Stop the first run as soon as the first explanation unit starts: trainings and evaluations are finished.
    const controller = new AbortController()
    const seen: BenchmarkProgress[] = []
    const first = await runBenchmark({
      pool,
      config,
      outRoot: root,
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p)
        if (p.phase.includes('explain') && !controller.signal.aborted) controller.abort()
      }
    }).catch((e) => e)
    expect(first).toMatchObject({ code: 'CANCELLED' })
    expect(seen.some((p) => p.phase.includes('model N-s0'))).toBe(true)
    const runDir = runDirFor(root, config)
    // Trained models sit beside the run folders, shared by every run under the same root.
    expect(existsSync(join(root, 'models'))).toBe(true)
    expect(existsSync(join(runDir, 'models'))).toBe(false)

    const second = await runBenchmark({ pool, config, outRoot: root })
    // Both models and both evaluations came from the first run.
    expect(second.units.cached).toBeGreaterThanOrEqual(4)
    // Two (model, test set) pairs × three methods, and the sanity check's unit per method.
    expect(second.units.computed).toBe(2 * 3 + 3)
    expect(second.models.map((m) => [m.row, m.source])).toEqual([
      ['N', 'trained'],
      ['2', 'trained']
    ])
    for (const m of second.models) {
      expect(m.digitIou).toHaveLength(10)
      expect(m.testMiou).not.toBeNull()
    }
    expect(second.iou.values[0].filter((v) => v !== null).length).toBeGreaterThan(0)
    expect(second.methods.map((m) => m.method)).toEqual(['context', 'vg', 'ig'])
    // One image per digit, explained with both models (N on the biased test set as the control).
    expect(second.explained).toEqual({ requests: 3 * 2 * 10, skipped: 0 })
    const ctx = second.methods[0]
    // Row 2, column 2 holds the biased images, the only ones with a bias tile, so the only defined CBL.
    const r2 = ctx.cbl.rowLabels.indexOf('2')
    expect(ctx.cbl.cells[r2][2].images + ctx.cbl.cells[r2][2].undefinedImages).toBeGreaterThan(0)
    expect(ctx.cbl.values[r2].filter((v, j) => j !== 2 && v !== null)).toEqual([])
    for (const m of second.methods) for (const row of m.cbd.values) for (const v of row) if (v !== null) expect(v).toBeGreaterThanOrEqual(0)

    for (const f of [second.files.json, second.files.csv, second.files.summary]) expect(existsSync(f)).toBe(true)
    expect(readFileSync(second.files.csv, 'utf8').split('\n')[0]).toBe('table,method,row,column,mean,std,models,images,undefined_images')
    expect(readFileSync(second.files.csv, 'utf8')).toMatch(/\ncbl,context,2,2,/)
    const svgs = second.files.figures.filter((f) => f.endsWith('.svg'))
    const pngs = second.files.figures.filter((f) => f.endsWith('.png'))
    expect(svgs.map((f) => f.split('/').pop())).toEqual(['fig4a-iou.svg', 'fig4b-mcbd.svg', 'fig4c-mcbl.svg', 'verdicts.svg', 'sanity-cascade.svg'])
    expect(readFileSync(svgs[2], 'utf8')).toContain('<svg')
    expect(readFileSync(svgs[2], 'utf8')).toContain('Grid saliency (context)')
    expect(readFileSync(pngs[0]).subarray(1, 4).toString()).toBe('PNG')

    // The sanity check: the biased model, its biased digit's requests (one image per digit here, so one of the two
    // asked for), the output layer then all 11 layers of the 2-level U-Net.
    const sanity = second.sanity!
    expect(sanity.model.row).toBe('2')
    expect(sanity.totalLayers).toBe(11)
    expect(sanity.stages.map((s) => [s.label, s.layers])).toEqual([
      ['top layer', 1],
      ['all layers', 11]
    ])
    expect(sanity.stages[0].layerNames).toEqual(['classifier'])
    expect(sanity.requests).toEqual([{ index: expect.any(Number), digit: 2 }])
    expect(sanity.methods.map((m) => m.method)).toEqual(['context', 'vg', 'ig'])
    for (const m of sanity.methods) {
      for (const st of m.stages) {
        expect(st.spearman.n + m.excluded).toBe(1)
        if (st.spearman.mean !== null) expect(Math.abs(st.spearman.mean)).toBeLessThanOrEqual(1)
      }
      expect(['passes', 'fails', 'not assessed']).toContain(m.verdict)
    }
    expect(JSON.parse(readFileSync(sanity.files.json, 'utf8')).methods).toHaveLength(3)
    const md = readFileSync(sanity.files.markdown, 'utf8')
    expect(md).toContain('## Sanity check: cascading randomisation (Adebayo et al. 2018)')
    expect(md).toMatch(/\| VG \| all layers \| 11 of 11 \| /)
    expect(readFileSync(second.files.summary, 'utf8')).toContain('Sanity check (Adebayo et al. 2018, strong-d2-t3-s0)')

    // The per-model verdict compares the biased digit's IoU with the unbiased model of the same seed.
    expect(second.verdicts).toHaveLength(1)
    const v = second.verdicts[0]
    expect(v.name).toBe('strong-d2-t3-s0')
    const [n, b] = second.models
    if (n.digitIou[2] !== null && b.digitIou[2] !== null) expect(v.iouDrop).toBeCloseTo(n.digitIou[2] - b.digitIou[2], 12)
    expect(v.methods.map((m) => m.method)).toEqual(['context', 'vg', 'ig'])
    expect(v.methods[0].requests.reduce((a, x) => a + x, 0)).toBe(10)
    expect(['learned-detected', 'learned-missed', 'not-learned', 'undetermined']).toContain(v.verdict)
    expect(readFileSync(second.files.verdicts!, 'utf8')).toContain('| strong-d2-t3-s0 |')
    expect(readFileSync(second.files.verdictsCsv!, 'utf8').split('\n')).toHaveLength(1 + 3 + 1)
    expect(readFileSync(second.files.summary, 'utf8')).toContain('Verdicts: 1 ')

    // A third run computes nothing and gives the same numbers.
    const third = await runBenchmark({ pool, config, outRoot: root })
    expect(third.units.computed).toBe(0)
    expect(third.methods.map((m) => m.cbd.values)).toEqual(second.methods.map((m) => m.cbd.values))
    expect(third.iou.values).toEqual(second.iou.values)
    expect(third.sanity!.methods).toEqual(second.sanity!.methods)

    // Without the sanity check: the same run folder, nothing computed, no sanity section or figure.
    const off = await runBenchmark({ pool, config: withSanityCheck(config, false), outRoot: root })
    expect(off.runDir).toBe(second.runDir)
    expect(off.units.computed).toBe(0)
    expect(off.sanity).toBeNull()
    expect(off.files.figures.some((f) => f.includes('sanity'))).toBe(false)
    expect(existsSync(sanity.files.markdown)).toBe(false)
    expect(existsSync(join(second.runDir, 'figures', 'sanity-cascade.svg'))).toBe(false)
  })
})

describe('fine-tuned biased models', () => {
  it('start from the unbiased model of their seed: its key and content hash are part of their own key', async () => {
    const pool = await EnginePool.create(1, { backend: 'wasm', handlerModules: engineHandlerModules() })
    const root = mkdtempSync(join(tmpdir(), 'ctxlens-bench-ft-'))
    try {
      // A learning rate of 1e-9 leaves every convolution kernel where it started: the fine-tuned model's kernels
      // must then be the unbiased model's, not those of a fresh initialisation of its own seed.
      const config = parseBenchmarkConfig({
        ...tiny,
        data: { ...tiny.data, explainPerDigit: 1 },
        training: { ...tiny.training, fineTune: { trainCount: 16, epochs: 1, learningRate: 1e-9 } },
        saliency: { ...tiny.saliency, methods: ['context'] },
        sanityCheck: { enabled: false }
      })
      const plan = planModels(config)
      expect(plan.map((p) => [p.row, p.training.data.trainCount, p.fineTuneSeed])).toEqual([
        ['N', 32, undefined],
        ['2', 16, 0]
      ])
      const r = await runBenchmark({ pool, config, outRoot: root })
      const [n, b] = r.models
      const nSide = JSON.parse(readFileSync(join(n.dir, 'ctxlens.model.json'), 'utf8'))
      const bSide = JSON.parse(readFileSync(join(b.dir, 'ctxlens.model.json'), 'utf8'))
      expect(bSide.training.benchmark.train.init).toEqual({ trainingKey: n.key, contentHash: nSide.contentHash })
      const kernels = async (dir: string): Promise<Map<string, Float32Array>> => {
        const { loadModelArtifacts } = await import('@main/engine/modelFiles/fsHandler')
        const a = await loadModelArtifacts(dir)
        const out = new Map<string, Float32Array>()
        let at = 0
        for (const w of a.weightSpecs!) {
          const size = w.shape.reduce((x, y) => x * y, 1)
          if (w.name.endsWith('kernel')) out.set(w.name, new Float32Array(tf.io.CompositeArrayBuffer.join(a.weightData!).slice(at * 4, (at + size) * 4)))
          at += size
        }
        return out
      }
      const kn = await kernels(n.dir)
      const kb = await kernels(b.dir)
      expect(kb.size).toBeGreaterThan(3)
      let maxDiff = 0
      for (const [name, w] of kb) for (let i = 0; i < w.length; i++) maxDiff = Math.max(maxDiff, Math.abs(w[i] - kn.get(name)![i]))
      expect(maxDiff).toBeLessThan(1e-6)
      // And a config that fine-tunes without unbiased models is refused by name.
      expect(errorOf(() => parseBenchmarkConfig({ ...tiny, unbiased: false, training: { fineTune: { trainCount: 16, epochs: 1, learningRate: 1e-3 } } })).message).toContain(
        'training.fineTune'
      )
    } finally {
      await pool.dispose()
      rmSync(root, { recursive: true, force: true })
    }
  })
})

describe('ctxlens benchmark (CLI)', () => {
  /** In-process: the program's error output and exit code, without starting an engine. */
  async function cli(...args: string[]): Promise<{ stderr: string; exitCode: number | undefined }> {
    const { buildProgram } = await import('@main/cli/program')
    let stderr = ''
    const write = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((chunk: string | Uint8Array) => {
      stderr += String(chunk)
      return true
    }) as typeof process.stderr.write
    const before = process.exitCode
    try {
      await buildProgram('0.0.0').exitOverride().parseAsync(['node', 'ctxlens', 'benchmark', ...args])
      return { stderr, exitCode: process.exitCode as number | undefined }
    } finally {
      process.stderr.write = write
      process.exitCode = before
    }
  }

  it('says what is wrong with a config file, by field, with the error code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctxlens-bench-cli-'))
    try {
      writeFileSync(join(dir, 'c.json'), JSON.stringify({ experiments: [{ bias: 'huge', biasedDigits: [2], textures: [3], seeds: [0] }] }))
      const r = await cli('--config', join(dir, 'c.json'), '--out', dir, '--no-progress')
      expect(r.exitCode).toBe(1)
      expect(r.stderr).toContain('[INVALID_PARAMETERS]')
      expect(r.stderr).toContain('experiments.0.bias')
      const none = await cli('--no-progress')
      expect(none.exitCode).toBe(1)
      expect(none.stderr).toContain('give --preset quick|quick-d0-t1|paper-small|sweep, --config FILE or --resume JOB')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('requests', () => {
  it("takes the predicted digit inside the ground truth by default; the spill into the context only with 'predicted-all'", async () => {
    const { buildRequests } = await import('@main/benchmark/evaluate')
    const PX = 64 * 64
    const labels = new Uint8Array(2 * PX).fill(10)
    const predicted = new Uint16Array(2 * PX).fill(10)
    // Image 0: digit 2 in rows 20–29; predicted as 2 in rows 25–39 (half inside, ten rows of spill below).
    for (let p = 20 * 64; p < 30 * 64; p++) labels[p] = 2
    for (let p = 25 * 64; p < 40 * 64; p++) predicted[p] = 2
    // Image 1: digit 7, predicted as background except 3 pixels.
    for (let p = 0; p < 64; p++) labels[PX + p] = 7
    for (let p = 0; p < 3; p++) predicted[PX + p] = 7
    const meta: TextureMnistMeta[] = [
      { index: 5, split: 'test', digit: 2, mnistIndex: 0, foregroundTexture: 0, tileTextures: [1, 2], layout: 'halves', biasedTile: 1, isBiased: true },
      { index: 9, split: 'test', digit: 7, mnistIndex: 1, foregroundTexture: 0, tileTextures: [1, 2], layout: 'halves', biasedTile: null, isBiased: false }
    ]
    const set = { description: 'd', count: 2, images: new Float32Array(2 * PX), labels, meta, indices: [5, 9] }
    const area = (m: Uint8Array): number => m.reduce((a, v) => a + v, 0)
    const within = buildRequests(set, predicted, 16)
    expect(within.requests.map((r) => area(r.request))).toEqual([5 * 64])
    expect(within.skipped).toEqual([{ index: 9, digit: 7, requestArea: 3 }])
    expect(within.requests[0]).toMatchObject({ classId: 2, id: '5' })
    expect(area(buildRequests(set, predicted, 16, 'predicted-all').requests[0].request)).toBe(15 * 64)
    const gt = buildRequests(set, predicted, 16, 'ground-truth')
    expect(gt.requests.map((r) => area(r.request))).toEqual([10 * 64, 64])
  })
})
