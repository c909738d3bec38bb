/**
 * Why most of the demo's explanations do not recover (issue 16, item 1): runs context saliency on a fixed seeded
 * sample of the demo audit's own requests over a grid of settings, and prints (and writes) how many recover.
 *
 *   npx tsx scripts/study-recovery.ts [--out .ctxlens-tmp/study-recovery] [--seed 20191] [--images 300]
 *       [--per-cell 12] [--settings base,lr3,...|all] [--runtime onnx|tfjs] [--report-only]
 *       [--detail setting@steps,...]
 *
 * The study in BENCHMARKS.md ("Why explanations do not recover") ran, with CTXLENS_ONNX_THREADS=1:
 *   --per-cell 4 --settings <every setting below>               prune on 16 requests
 *   --per-cell 12 --settings base,lam0.005,lam0.003-lr3          the candidates on 48
 *   --seed 1 --per-cell 8 --settings base,lam0.003-lr3           another set of images, 32 requests
 *   --runtime tfjs --per-cell 2 --settings base                  the demo's runtime against ONNX Runtime
 *
 * Data as `buildDemo` makes it: `writeStreetScenes` (test split, the model's 64×128, seed 20191, 300 images),
 * predictions of the committed demo model (its tfjs folder, as the demo predicts), correct/misclassified regions
 * (`segmentsForImage`), ground truth rider or person, area ≥ DEMO_MIN_AREA, then the demo's own seeded sample of
 * at most 150 per (GT, predicted) pair. From that list, a seeded sample of `--per-cell` requests from each of the
 * four cells rider/person × correct/misclassified (the first k of a fixed shuffled order, so a smaller sample is a
 * prefix of a larger one and its results are reused).
 *
 * Saliency runs in process through `computeSaliency` (default: the demo model's ONNX export on ONNX Runtime,
 * threads from CTXLENS_ONNX_THREADS; `--runtime tfjs` the tfjs folder on wasm). The model is wrapped so every
 * optimisation step's terms are recorded: a run of T steps also gives the state after 80 and 200 steps, which
 * are exactly what an 80- or 200-step run ends with (no schedule, early stop off). Results are cached per
 * (setting, request) under --out, so a rerun resumes and another report costs nothing.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import { STREET_CLASS, STREET_SCENE_CLASSES } from '@common/streetScenes'
import type { ModelSidecar } from '@common/modelSidecar'
import { saliencyParams, type PerturbationParams, type SaliencyResult } from '@common/saliency'
import { DEMO_MIN_AREA } from '@main/audit/demo'
import { toModelInput } from '@main/explain/imageInput'
import { explanationCounts, emptyCounts, addCounts, requestedObject, summarise } from '@main/audit/contextStats'
import { writeStreetScenes, streetSampleName } from '@main/datasets/streetScenes'
import { segmentsForImage, segmentMask, type ExtractedSegment } from '@main/datasets/segments/segments'
import { initBackend } from '@main/engine/backend'
import { openSegmentationModel } from '@main/engine/openModel'
import { predictLabelMaps, type OpenedSegmentationModel, type PerturbationStepArgs, type PerturbationStepResult, type SegmentationModel } from '@main/engine/segmentationModel'
import { shuffleInPlace, uniform01 } from '@main/prng'
import { computeSaliency, upsampleBilinear, type SaliencyRequest } from '@main/saliency'

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`)

const OUT = resolve(arg('out', '.ctxlens-tmp/study-recovery'))
const SEED = Number(arg('seed', '20191'))
const IMAGES = Number(arg('images', '300'))
const PER_CELL = Number(arg('per-cell', '12'))
const RUNTIME = arg('runtime', 'onnx') as 'onnx' | 'tfjs'
const MODEL_DIR = resolve('resources/demo-model')
/** The demo's samplePerPair (src/common/methods/audit.ts). */
const DEMO_PER_PAIR = 150
const TOLERANCE = 0.01
const CHECKPOINTS = [80, 200, 400]
const NAMES = STREET_SCENE_CLASSES.map((c) => c.name)
const { rider: RIDER, person: PERSON, bicycle: BICYCLE } = STREET_CLASS

// ---- settings ---------------------------------------------------------------------------------------------

interface Setting {
  name: string
  /** What the row changes against the demo's settings (the Cityscapes preset, black constant baseline). */
  label: string
  overrides: Record<string, unknown>
  steps: number
}

/** The dataset mean colour is only known once the images are read; filled in before any run. */
let datasetMean: number[] = [0.5, 0.5, 0.5]

function settings(): Setting[] {
  const s = (name: string, label: string, overrides: Record<string, unknown>, steps = 80): Setting => ({ name, label, overrides, steps })
  return [
    s('base', 'demo settings (16×32, SGD lr 1 μ 0.5, λ 0.01, init 0.5, black)', {}),
    s('base-steps400', 'demo settings, run for 400 steps', {}, 400),
    s('lr0.3', 'lr 0.3', { learningRate: 0.3 }),
    s('lr3', 'lr 3', { learningRate: 3 }),
    s('lam0.001', 'λ 0.001', { lambda: 0.001 }),
    s('lam0.005', 'λ 0.005', { lambda: 0.005 }),
    s('lam0.05', 'λ 0.05', { lambda: 0.05 }),
    s('mask8x16', 'mask 8×16', { maskHeight: 8, maskWidth: 16 }),
    s('grey', 'baseline constant 0.5 (grey)', { baseline: { kind: 'constant', value: 0.5 } }),
    s('mean', 'baseline dataset mean colour', { baseline: { kind: 'constant', value: datasetMean } }),
    s('blur5', 'baseline blur σ 5', { baseline: { kind: 'blur', sigma: 5 } }),
    s('blur2', 'baseline blur σ 2', { baseline: { kind: 'blur', sigma: 2 } }),
    s('noise', 'baseline uniform noise (seed 0)', { baseline: { kind: 'noise', seed: 0 } }),
    s('adam0.05', 'Adam lr 0.05', { optimizer: 'adam', learningRate: 0.05 }),
    s('init1', 'init 1.0', { init: 1 }),
    s('lam0.002-lr3', 'λ 0.002 + lr 3', { lambda: 0.002, learningRate: 3 }),
    s('lam0.003-lr3', 'λ 0.003 + lr 3', { lambda: 0.003, learningRate: 3 }),
    s('adam0.05-lam0.002', 'Adam lr 0.05 + λ 0.002', { optimizer: 'adam', learningRate: 0.05, lambda: 0.002 }),
    s('lam0.005-mean', 'λ 0.005 + dataset mean', { lambda: 0.005, baseline: { kind: 'constant', value: datasetMean } })
  ]
}

// ---- data: the demo's images, predictions and requests --------------------------------------------------------

type Cell = 'rider-correct' | 'rider-misclassified' | 'person-correct' | 'person-misclassified'
const CELLS: Cell[] = ['rider-correct', 'rider-misclassified', 'person-correct', 'person-misclassified']

interface Item {
  id: string
  cell: Cell
  image: number
  segment: ExtractedSegment
  /** Full-image request mask. */
  mask: Uint8Array
}

interface Data {
  sidecar: ModelSidecar
  height: number
  width: number
  inputs: Float32Array[]
  labels: Uint16Array[]
  demo: Item[]
  sample: Item[]
}

/** The audit's seeded sample (jobs.ts `sample`): a shuffled copy cut to size, back in image order. */
function demoSample<T>(items: T[], size: number, seed: number): T[] {
  if (size >= items.length) return items
  const a = [...items]
  shuffleInPlace(a, uniform01(seed))
  return a.slice(0, size)
}

async function loadData(): Promise<Data> {
  const sidecar = JSON.parse(await readFile(join(MODEL_DIR, 'ctxlens.model.json'), 'utf8')) as ModelSidecar
  const { height, width } = sidecar.input
  const dir = join(OUT, `street-scenes-${width}x${height}-seed${SEED}-n${IMAGES}`)
  if (!existsSync(join(dir, 'dataset.json'))) {
    await rm(dir, { recursive: true, force: true })
    await writeStreetScenes({ outDir: dir, height, width, seed: SEED, counts: { train: 0, val: 0, test: IMAGES } })
  }
  const inputs: Float32Array[] = []
  const labels: Uint16Array[] = []
  for (let i = 0; i < IMAGES; i++) {
    const name = `${streetSampleName(i)}.png`
    const rgb = await sharp(join(dir, 'images', 'test', name)).removeAlpha().toColourspace('srgb').raw().toBuffer()
    inputs.push(toModelInput(new Uint8Array(rgb), width, height, sidecar))
    const lab = await sharp(join(dir, 'labels', 'test', name)).extractChannel(0).raw().toBuffer()
    labels.push(Uint16Array.from(lab))
  }
  const mean = [0, 0, 0]
  for (const x of inputs) for (let p = 0; p < x.length; p++) mean[p % 3] += x[p]
  datasetMean = mean.map((m) => Number((m / (IMAGES * height * width)).toFixed(4)))

  // Predictions as the demo stores them: the tfjs folder (the demo registers the folder, not the ONNX export).
  const predPath = join(OUT, `predictions-seed${SEED}-n${IMAGES}.bin`)
  let preds: Uint16Array
  if (existsSync(predPath)) preds = new Uint16Array((await readFile(predPath)).buffer.slice(0))
  else {
    await initBackend()
    const model = await openSegmentationModel(MODEL_DIR)
    preds = new Uint16Array(IMAGES * height * width)
    const px = height * width * 3
    for (let s = 0; s < IMAGES; s += 25) {
      const n = Math.min(25, IMAGES - s)
      const batch = new Float32Array(n * px)
      for (let k = 0; k < n; k++) batch.set(inputs[s + k], k * px)
      preds.set(await predictLabelMaps(model, batch, [n, height, width, 3]), s * height * width)
    }
    model.dispose()
    await writeFile(predPath, Buffer.from(preds.buffer))
  }

  // The demo's selection: correct/misclassified regions whose GT is rider or person, area ≥ 16, then at most 150 per
  // (GT, predicted) pair with the demo's seed, in image order (jobs.ts selectSegments / samplePerPair).
  const all: Item[] = []
  for (let i = 0; i < IMAGES; i++) {
    const pred = preds.subarray(i * height * width, (i + 1) * height * width)
    const segs = segmentsForImage({ width, height, gt: labels[i], pred, ignoreIds: [255] }, { kinds: ['correct', 'misclassified'] })
    segs.forEach((seg, j) => {
      if ((seg.gtClass !== RIDER && seg.gtClass !== PERSON) || seg.area < DEMO_MIN_AREA) return
      const cell = `${seg.gtClass === RIDER ? 'rider' : 'person'}-${seg.kind}` as Cell
      all.push({ id: `${streetSampleName(i)}.png#${j}`, cell, image: i, segment: seg, mask: segmentMask(seg, width, height) })
    })
  }
  const groups = new Map<string, Item[]>()
  for (const it of all) {
    const key = `${it.segment.gtClass}:${it.segment.predClass}`
    groups.set(key, [...(groups.get(key) ?? []), it])
  }
  const order = new Map(all.map((it, k) => [it.id, k]))
  const demo = [...groups.values()].flatMap((g) => demoSample(g, DEMO_PER_PAIR, SEED)).sort((a, b) => order.get(a.id)! - order.get(b.id)!)

  const sample: Item[] = []
  CELLS.forEach((cell, c) => {
    const list = demo.filter((it) => it.cell === cell)
    shuffleInPlace(list, uniform01(SEED * 31 + c + 1))
    sample.push(...list.slice(0, PER_CELL))
  })
  return { sidecar, height, width, inputs, labels, demo, sample }
}

// ---- running: a recording model and the per-request cache ------------------------------------------------------

interface Trace {
  preservation: number[]
  maskL1: number[]
  score: number[]
  loss: number[]
  masks: Record<number, number[]>
}

interface Record_ {
  id: string
  setting: string
  steps: number
  scoreOriginal: number
  /** Per step t = 0..steps: the terms at the mask after t updates (t = steps is the final evaluation). */
  trace: Trace
  msPerStep: number
}

/** Passes every call through and keeps, per request of the batch, each step's terms and the masks at checkpoints. */
class RecordingModel implements SegmentationModel {
  traces: Trace[] = []
  private step = 0
  constructor(private inner: SegmentationModel) {}
  get inputShape() {
    return this.inner.inputShape
  }
  get numClasses() {
    return this.inner.numClasses
  }
  get inputRange() {
    return this.inner.inputRange
  }
  reset(batch: number): void {
    this.step = 0
    this.traces = Array.from({ length: batch }, () => ({ preservation: [], maskL1: [], score: [], loss: [], masks: {} }))
  }
  predict(images: Float32Array, g: Parameters<SegmentationModel['predict']>[1]) {
    return this.inner.predict(images, g)
  }
  scoreGradient(args: Parameters<SegmentationModel['scoreGradient']>[0]) {
    return this.inner.scoreGradient(args)
  }
  async perturbationStep(args: PerturbationStepArgs): Promise<PerturbationStepResult> {
    const r = await this.inner.perturbationStep(args)
    const t = this.step++
    const cells = args.maskHeight * args.maskWidth
    for (let b = 0; b < args.batch; b++) {
      const tr = this.traces[b]
      tr.preservation.push(r.preservation[b])
      tr.maskL1.push(r.maskL1[b])
      tr.score.push(r.score[b])
      tr.loss.push(r.loss[b])
      if (CHECKPOINTS.includes(t) || !args.withGradient) tr.masks[t] = Array.from(args.masks.subarray(b * cells, (b + 1) * cells), (v) => Number(v.toFixed(4)))
    }
    return r
  }
  dispose(): void {}
}

/** tfjs runs are kept apart: the two runtimes agree to float precision, not bit for bit. */
const RESULTS = join(OUT, `seed${SEED}${RUNTIME === 'tfjs' ? '-tfjs' : ''}`)
const cachePath = (setting: string, id: string) => join(RESULTS, setting, `${id.replace('#', '_')}.json`)

function paramsFor(s: Setting): PerturbationParams {
  return saliencyParams('context', 'cityscapes', { ...s.overrides, steps: s.steps }) as PerturbationParams
}

async function run(model: SegmentationModel, data: Data, s: Setting): Promise<void> {
  const todo = data.sample.filter((it) => !existsSync(cachePath(s.name, it.id)))
  if (todo.length === 0) return
  const params = paramsFor(s)
  const rec = new RecordingModel(model)
  const { height, width } = data
  for (let i = 0; i < todo.length; i += 16) {
    const chunk = todo.slice(i, i + 16)
    const requests: SaliencyRequest[] = chunk.map((it) => ({
      id: it.id,
      image: { data: data.inputs[it.image], height, width, channels: 3 },
      request: it.mask,
      classId: data.sidecar.classes.findIndex((c) => c.id === it.segment.predClass)
    }))
    rec.reset(chunk.length)
    const t0 = performance.now()
    const results: SaliencyResult[] = await computeSaliency(rec, requests, params, { maxBatch: 16 })
    const ms = performance.now() - t0
    for (const [k, it] of chunk.entries()) {
      const r = results[k]
      const tr = rec.traces[k]
      // The recorder's last entry is the final evaluation, the same numbers computeSaliency reports.
      if (Math.abs(tr.preservation[s.steps] - r.preservation!) > 1e-6) throw new Error(`trace and result disagree for ${it.id}`)
      const out: Record_ = { id: it.id, setting: s.name, steps: s.steps, scoreOriginal: r.scoreOriginal, trace: tr, msPerStep: ms / chunk.length / s.steps }
      await mkdir(join(RESULTS, s.name), { recursive: true })
      await writeFile(cachePath(s.name, it.id), JSON.stringify(out))
    }
    console.error(`  ${s.name}: ${Math.min(i + 16, todo.length)}/${todo.length} requests, ${(ms / 1000).toFixed(1)} s for ${chunk.length}`)
  }
}

// ---- analysis --------------------------------------------------------------------------------------------

/** Wilson score interval for k of n at 95 %. */
function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [NaN, NaN]
  const z = 1.959964
  const p = k / n
  const d = 1 + (z * z) / n
  const c = p + (z * z) / (2 * n)
  const h = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))
  return [(c - h) / d, (c + h) / d]
}
const median = (v: number[]): number => {
  if (v.length === 0) return NaN
  const s = [...v].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / Math.max(v.length, 1)
const f = (v: number, d = 3): string => (Number.isFinite(v) ? v.toFixed(d) : '—')
const pct = (k: number, n: number): string => (n ? `${((100 * k) / n).toFixed(0)} %` : '—')

interface At {
  item: Item
  rec: Record_
  t: number
  preservation: number
  score: number
  mask: number[]
  recovered: boolean
}

function at(item: Item, rec: Record_, t: number): At {
  const preservation = rec.trace.preservation[t]
  return { item, rec, t, preservation, score: rec.trace.score[t], mask: rec.trace.masks[t], recovered: preservation <= TOLERANCE }
}

/** Share of the loss decrease so far that happened in the last 10 % of the steps (≈ 0 when flat, 0.1 when linear). */
function lateFall(loss: number[], t: number): number {
  const total = loss[0] - loss[t]
  const late = loss[Math.round(0.9 * t)] - loss[t]
  return total > 1e-9 ? late / total : 0
}

/** Share of the mask's mass in its top 10 % of cells: 1 when a few cells hold it all, 0.1 when uniform. */
function top10(mask: number[]): number {
  const s = [...mask].sort((a, b) => b - a)
  const tot = s.reduce((a, b) => a + b, 0)
  const k = Math.max(1, Math.round(0.1 * s.length))
  return tot > 1e-9 ? s.slice(0, k).reduce((a, b) => a + b, 0) / tot : NaN
}

interface Row {
  setting: string
  label: string
  t: number
  n: number
  k: number
  ci: [number, number]
  perCell: Record<Cell, [number, number]>
  /** The rate with each cell weighted by its share of the demo's whole selection (the demo audits 150 + 150 correct). */
  demoWeighted: number
  medianPreservation: number
  medianChange: number
  meanMask: number
  area: number
  empty: number
  top10: number
  stillFalling: number
  medianLateFall: number
  msPerRequest: number
  bicycleDensity: number | null
  highestOther: string
  ratio: number
  ratioRecovered: number
  ridersRecovered: number
}

/** Correct riders' context (default: outside the request and the rest of the object): bicycle density and the highest other class. */
function riderContext(data: Data, list: At[], up: Map<At, Float32Array>): { bicycle: number | null; other: number; otherDensity: number | null } {
  const counts = emptyCounts(NAMES.length)
  for (const a of list) {
    const gt = data.labels[a.item.image]
    const object = requestedObject(gt, a.item.mask, data.width, data.height, RIDER)
    addCounts(counts, explanationCounts({ gt, request: a.item.mask, saliency: up.get(a)!, width: data.width, height: data.height, contourRadius: 4, classCount: NAMES.length, ignoreIds: [255], object }))
  }
  const sum = summarise(counts)
  let other = -1
  sum.density.forEach((d, c) => {
    if (c !== BICYCLE && d !== null && (other < 0 || d > (sum.density[other] ?? 0))) other = c
  })
  return { bicycle: sum.density[BICYCLE], other, otherDensity: other >= 0 ? sum.density[other] : null }
}

function summariseAt(data: Data, s: Setting, list: At[]): Row {
  const n = list.length
  const k = list.filter((a) => a.recovered).length
  const perCell = Object.fromEntries(CELLS.map((c) => {
    const l = list.filter((a) => a.item.cell === c)
    return [c, [l.filter((a) => a.recovered).length, l.length]]
  })) as Record<Cell, [number, number]>
  const falls = list.map((a) => lateFall(a.rec.trace.loss, a.t))
  const ph = paramsFor(s)
  // Mask size in image pixels (upsampled), so 8×16 and 16×32 masks compare.
  const up = new Map(list.map((a) => [a, upsampleBilinear(Float32Array.from(a.mask), ph.maskHeight, ph.maskWidth, data.height, data.width)]))
  const px = data.height * data.width
  // The demo's headline row: correct riders, all of them and the recovered ones only (issue 16's default for statistics).
  const riders = list.filter((x) => x.item.cell === 'rider-correct')
  const ctx = riderContext(data, riders, up)
  const ctxRecovered = riderContext(data, riders.filter((a) => a.recovered), up)
  const ratioOf = (c: typeof ctx) => (c.bicycle !== null && c.otherDensity ? c.bicycle / c.otherDensity : NaN)
  const demoTotal = CELLS.reduce((t, c) => t + data.demo.filter((it) => it.cell === c).length, 0)
  const demoWeighted = CELLS.reduce((t, c) => {
    const [k, n] = perCell[c]
    return t + (n ? (k / n) * data.demo.filter((it) => it.cell === c).length : 0)
  }, 0) / demoTotal
  return {
    setting: s.name,
    label: s.label,
    t: list[0]?.t ?? 0,
    n,
    k,
    ci: wilson(k, n),
    perCell,
    demoWeighted,
    medianPreservation: median(list.map((a) => a.preservation)),
    medianChange: median(list.map((a) => a.score - a.rec.scoreOriginal)),
    meanMask: mean(list.map((a) => up.get(a)!.reduce((x, y) => x + y, 0) / px)),
    area: mean(list.map((a) => up.get(a)!.filter((v) => v >= 0.5).length / px)),
    empty: list.filter((a) => Math.max(...a.mask) < 0.05).length,
    top10: median(list.map((a) => top10(a.mask)).filter(Number.isFinite)),
    stillFalling: falls.filter((x) => x > 0.02).length,
    medianLateFall: median(falls),
    msPerRequest: mean(list.map((a) => a.rec.msPerStep)) * (list[0]?.t ?? 0),
    bicycleDensity: ctx.bicycle,
    highestOther: ctx.other >= 0 ? `${NAMES[ctx.other]} ${f(ctx.otherDensity ?? NaN)}` : '—',
    ratio: ratioOf(ctx),
    ratioRecovered: ratioOf(ctxRecovered),
    ridersRecovered: riders.filter((a) => a.recovered).length
  }
}

async function loadRecords(s: Setting, items: Item[]): Promise<Map<string, Record_>> {
  const out = new Map<string, Record_>()
  for (const it of items) {
    const p = cachePath(s.name, it.id)
    if (existsSync(p)) out.set(it.id, JSON.parse(await readFile(p, 'utf8')) as Record_)
  }
  return out
}

function table(rows: Row[]): string {
  const head =
    '| setting | steps | n | recovered | 95 % CI | demo-weighted | rider ok / mis | person ok / mis | median preservation | median score change | mean mask | area ≥ 0.5 | empty | top-10 % share | still falling | s / request | correct riders: bicycle density | highest other | ratio | ratio, recovered only (n) |'
  const sep = `|${head.split('|').slice(1, -1).map(() => '---').join('|')}|`
  const cell = (r: Row, c: Cell) => `${r.perCell[c][0]}/${r.perCell[c][1]}`
  const lines = rows.map(
    (r) =>
      `| ${r.label} | ${r.t} | ${r.n} | ${r.k} (${pct(r.k, r.n)}) | ${f(100 * r.ci[0], 0)}–${f(100 * r.ci[1], 0)} % | ${f(100 * r.demoWeighted, 0)} % | ${cell(r, 'rider-correct')} / ${cell(r, 'rider-misclassified')} | ${cell(r, 'person-correct')} / ${cell(r, 'person-misclassified')} | ${f(r.medianPreservation)} | ${r.medianChange >= 0 ? '+' : ''}${f(r.medianChange)} | ${f(r.meanMask)} | ${f(r.area)} | ${r.empty} | ${f(r.top10, 2)} | ${r.stillFalling} | ${f(r.msPerRequest / 1000, 1)} | ${f(r.bicycleDensity ?? NaN)} | ${r.highestOther} | ${f(r.ratio, 2)}× | ${f(r.ratioRecovered, 2)}× (${r.ridersRecovered}) |`
  )
  return [head, sep, ...lines].join('\n')
}

/** Who does not recover at the demo's settings: by cell, original score, area, predicted class. */
function whoFails(list: At[]): string {
  const lines: string[] = []
  const row = (label: string, l: At[]) => {
    const k = l.filter((a) => a.recovered).length
    const ci = wilson(k, l.length)
    lines.push(
      `| ${label} | ${l.length} | ${k} (${pct(k, l.length)}) | ${f(100 * ci[0], 0)}–${f(100 * ci[1], 0)} % | ${f(median(l.map((a) => a.rec.scoreOriginal)))} | ${f(median(l.map((a) => a.preservation)))} | ${f(median(l.map((a) => a.item.segment.area)), 0)} |`
    )
  }
  lines.push('| group | n | recovered | 95 % CI | median original score | median preservation | median area px |', '|---|---|---|---|---|---|---|')
  for (const c of CELLS) row(c, list.filter((a) => a.item.cell === c))
  const byScore = [...list].sort((a, b) => a.rec.scoreOriginal - b.rec.scoreOriginal)
  const third = Math.ceil(byScore.length / 3)
  row('original score, lowest third', byScore.slice(0, third))
  row('original score, middle third', byScore.slice(third, 2 * third))
  row('original score, highest third', byScore.slice(2 * third))
  const byArea = [...list].sort((a, b) => a.item.segment.area - b.item.segment.area)
  row('area, smallest third', byArea.slice(0, third))
  row('area, middle third', byArea.slice(third, 2 * third))
  row('area, largest third', byArea.slice(2 * third))
  const preds = [...new Set(list.map((a) => a.item.segment.predClass!))].sort((a, b) => a - b)
  for (const p of preds) row(`misclassified, predicted ${NAMES[p]}`, list.filter((a) => a.item.segment.kind === 'misclassified' && a.item.segment.predClass === p))
  return lines.join('\n')
}

/** How other tolerances would read the same runs: absolute, and relative to the original score. */
function tolerances(list: At[]): string {
  const lines = ['| criterion | recovered | 95 % CI |', '|---|---|---|']
  const n = list.length
  const add = (label: string, ok: (a: At) => boolean) => {
    const k = list.filter(ok).length
    const ci = wilson(k, n)
    lines.push(`| ${label} | ${k}/${n} (${pct(k, n)}) | ${f(100 * ci[0], 0)}–${f(100 * ci[1], 0)} % |`)
  }
  for (const tol of [0.005, 0.01, 0.02, 0.05, 0.1]) add(`preservation ≤ ${tol}`, (a) => a.preservation <= tol)
  for (const rel of [0.05, 0.1, 0.2]) add(`preservation ≤ ${rel} × original score`, (a) => a.preservation <= rel * a.rec.scoreOriginal)
  for (const tol of [0.01, 0.02, 0.05]) add(`score drop (original − perturbed) ≤ ${tol}`, (a) => a.rec.scoreOriginal - a.score <= tol)
  return lines.join('\n')
}

async function main(): Promise<void> {
  const t0 = performance.now()
  const data = await loadData()
  const byCell = Object.fromEntries(CELLS.map((c) => [c, data.demo.filter((it) => it.cell === c).length]))
  const out: string[] = []
  const say = (s: string) => {
    out.push(s)
    console.log(s)
  }
  say(`images ${IMAGES}, seed ${SEED}; the demo's selection: ${data.demo.length} requests (${CELLS.map((c) => `${c} ${byCell[c]}`).join(', ')}); dataset mean colour ${datasetMean.join(', ')}`)
  say(`sample: ${data.sample.length} requests (${PER_CELL} per cell at most): ${CELLS.map((c) => `${c} ${data.sample.filter((it) => it.cell === c).length}`).join(', ')}`)

  const all = settings()
  const wanted = arg('settings', 'base')
  const chosen = wanted === 'all' ? all : wanted.split(',').map((n) => all.find((s) => s.name === n) ?? (() => { throw new Error(`unknown setting ${n}`) })())
  if (!flag('report-only')) {
    let model: OpenedSegmentationModel
    if (RUNTIME === 'tfjs') {
      await initBackend()
      model = await openSegmentationModel(MODEL_DIR)
    } else model = await openSegmentationModel(join(MODEL_DIR, 'model.onnx'))
    console.error(`runtime ${model.runtime}`)
    for (const s of chosen) {
      const ts = performance.now()
      await run(model, data, s)
      console.error(`${s.name} done in ${((performance.now() - ts) / 1000).toFixed(0)} s`)
    }
    model.dispose()
  }

  const rows: Row[] = []
  const lists = new Map<string, At[]>()
  for (const s of chosen) {
    const recs = await loadRecords(s, data.sample)
    const items = data.sample.filter((it) => recs.has(it.id))
    if (items.length === 0) continue
    for (const t of CHECKPOINTS.filter((c) => c <= s.steps)) {
      const list = items.map((it) => at(it, recs.get(it.id)!, t))
      lists.set(`${s.name}@${t}`, list)
      rows.push(summariseAt(data, s, list))
    }
  }
  say('\n' + table(rows))
  // An 80-step run ends where a longer run stands after 80 steps: check it on the requests both have.
  const b80 = lists.get('base@80')
  const b400 = lists.get('base-steps400@80')
  if (b80 && b400) {
    const other = new Map(b400.map((a) => [a.item.id, a]))
    const both = b80.filter((a) => other.has(a.item.id))
    const diff = Math.max(0, ...both.map((a) => Math.abs(a.preservation - other.get(a.item.id)!.preservation)))
    say(`\nbase (80 steps) vs base-steps400 after 80 steps: ${both.length} requests in both, largest preservation difference ${diff.toExponential(2)}`)
  }
  const base80 = lists.get('base@80')
  if (base80) {
    say('\nWho does not recover at the demo settings (80 steps):\n\n' + whoFails(base80))
    say('\nOther recovery criteria on the same 80-step runs:\n\n' + tolerances(base80))
    const ps = base80.map((a) => a.preservation).sort((a, b) => a - b)
    say(`\nfinal preservation at 80 steps, quantiles 10/25/50/75/90 %: ${[0.1, 0.25, 0.5, 0.75, 0.9].map((q) => f(ps[Math.min(ps.length - 1, Math.floor(q * ps.length))])).join(' / ')}`)
    const so = base80.map((a) => a.rec.scoreOriginal).sort((a, b) => a - b)
    say(`original score, quantiles 10/25/50/75/90 %: ${[0.1, 0.25, 0.5, 0.75, 0.9].map((q) => f(so[Math.min(so.length - 1, Math.floor(q * so.length))])).join(' / ')}`)
    // What M = 0 costs (context fully removed, before any step with init 0 would be this; here: the start at init 0.5).
    const p0 = base80.map((a) => a.rec.trace.preservation[0])
    say(`preservation at the start (mask 0.5 everywhere): median ${f(median(p0))}, ${p0.filter((v) => v <= TOLERANCE).length}/${p0.length} already ≤ ${TOLERANCE}`)
  }
  const extra = arg('detail', '')
  for (const key of extra ? extra.split(',') : []) {
    const l = lists.get(key)
    if (l) say(`\n${key}:\n\n` + whoFails(l) + '\n\n' + tolerances(l))
  }
  await mkdir(OUT, { recursive: true })
  await writeFile(join(OUT, `report-seed${SEED}-${PER_CELL}.md`), out.join('\n') + '\n')
  console.error(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
