/**
 * Evaluates the demo model on the street scenes' test split and probes what context it uses.
 *
 *   npx tsx scripts/eval-demo.ts [--model resources/demo-model] [--out resources/demo-model/eval.json]
 *       [--samples 20] [--mask 8x16] [--steps 40] [--lr 1] [--lambda 0.01] [--baseline black|mean]
 *       [--min-pixels 12] [--contour 4] [--workers 2] [--seed 0]
 *
 * 1. Segmentation: per-class IoU, mIoU, pixel accuracy and the pixel confusion matrix on the 300 test images
 *    (generated from the dataset spec recorded in the model's sidecar).
 * 2. Riders: how many ground-truth rider pixels and rider instances (majority vote of their pixels between rider
 *    and person) the model calls person, separately for riders with a visible and a hidden bicycle (the
 *    generator's meta); persons called rider, separately for whole and truncated persons.
 * 3. Context saliency (perturbation, Eq. 3) for sampled correctly predicted riders (request = GT rider instance ∩
 *    predicted rider, class rider), persons (GT person ∩ predicted person, class person) and riders predicted as
 *    person (GT rider ∩ predicted person, class person). Per ground-truth context class: the share of the
 *    upsampled (bilinear, half-pixel centres) saliency outside the request, the saliency density (mean saliency per
 *    context pixel of that class), and the share of that class in a contour ring around the request (baseline).
 *    Pooled over requests: share_k = Σ_r S_rk / Σ_r S_r, density_k = Σ_r S_rk / Σ_r N_rk.
 */
import { writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { STREET_CLASS, STREET_SCENE_CLASSES, type StreetScenesSpecInput } from '@common/streetScenes'
import { saliencyParams, type SaliencyParams, type SaliencyResult } from '@common/saliency'
import { upsampledMap } from '@common/saliencyMap'
import { initBackend } from '@main/engine/backend'
import { generateStreetSceneArrays, parseStreetScenesSpec } from '@main/datasets/streetScenes'
import { loadModel } from '@main/engine/modelFiles'
import { EnginePool } from '@main/engine/pool/pool'
import { engineHandlerModules } from '@main/engineHandlers'
import { fromLoadedModel } from '@main/engine/tfjsModel'
import { predictLabelMaps } from '@main/engine/segmentationModel'
import { shuffleInPlace, uniform01 } from '@main/prng'
import { computeSaliency, type SaliencyRequest } from '@main/saliency'

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback
}

const modelDir = resolve(arg('model', 'resources/demo-model'))
const outPath = resolve(arg('out', `${modelDir}/eval.json`))
const samples = Number(arg('samples', '20'))
const [maskHeight, maskWidth] = arg('mask', '8x16').split('x').map(Number)
const steps = Number(arg('steps', '40'))
const lr = Number(arg('lr', '1'))
const lambda = Number(arg('lambda', '0.01'))
const baselineKind = arg('baseline', 'black')
const minPixels = Number(arg('min-pixels', '12'))
const contourRadius = Number(arg('contour', '4'))
const workers = Number(arg('workers', '2'))
const seed = Number(arg('seed', '0'))

const K = STREET_SCENE_CLASSES.length
const NAMES = STREET_SCENE_CLASSES.map((c) => c.name)
const { person: PERSON, rider: RIDER, bicycle: BICYCLE } = STREET_CLASS

const pct = (a: number, b: number): string => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : '—')
const f3 = (v: number | null): string => (v === null || Number.isNaN(v) ? '—' : v.toFixed(3))

interface Case {
  group: 'rider-correct' | 'person-correct' | 'rider-as-person'
  image: number
  instance: number
  hidden: string | null
  requestPixels: number
  request: Uint8Array
  classId: number
}

/** Pixels within `radius` (Chebyshev) of the request and outside it: the contour baseline ring. */
function contourRing(request: Uint8Array, h: number, w: number, radius: number): Uint8Array {
  const ring = new Uint8Array(h * w)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!request[y * w + x]) continue
      for (let dy = -radius; dy <= radius; dy++) {
        const yy = y + dy
        if (yy < 0 || yy >= h) continue
        for (let dx = -radius; dx <= radius; dx++) {
          const xx = x + dx
          if (xx >= 0 && xx < w && !request[yy * w + xx]) ring[yy * w + xx] = 1
        }
      }
    }
  }
  return ring
}

interface ContextStats {
  /** Saliency mass per GT class in the context, and total. */
  mass: number[]
  total: number
  /** Context pixels per class. */
  pixels: number[]
  /** Contour-ring pixels per class. */
  ring: number[]
}

function contextStats(sal: Float32Array, request: Uint8Array, gt: Uint8Array, h: number, w: number): ContextStats {
  const mass = new Array(K).fill(0)
  const pixels = new Array(K).fill(0)
  const ring = new Array(K).fill(0)
  let total = 0
  for (let i = 0; i < h * w; i++) {
    if (request[i]) continue
    const k = gt[i]
    mass[k] += sal[i]
    pixels[k]++
    total += sal[i]
  }
  const r = contourRing(request, h, w, contourRadius)
  for (let i = 0; i < h * w; i++) if (r[i]) ring[gt[i]]++
  return { mass, total, pixels, ring }
}

interface GroupTable {
  group: string
  requests: number
  emptyMasks: number
  recovered: number
  meanMaskL1: number
  meanScoreOriginal: number
  meanScorePerturbed: number
  classes: {
    name: string
    share: number | null
    density: number | null
    meanDensity: number | null
    presentIn: number
    contourShare: number | null
  }[]
}

function table(group: string, results: SaliencyResult[], stats: ContextStats[]): GroupTable {
  const mass = new Array(K).fill(0)
  const pixels = new Array(K).fill(0)
  const ring = new Array(K).fill(0)
  const densSum = new Array(K).fill(0)
  const densN = new Array(K).fill(0)
  let total = 0
  let empty = 0
  stats.forEach((s) => {
    total += s.total
    if (s.total < 1e-6) empty++
    for (let k = 0; k < K; k++) {
      mass[k] += s.mass[k]
      pixels[k] += s.pixels[k]
      ring[k] += s.ring[k]
      if (s.pixels[k] > 0) {
        densSum[k] += s.mass[k] / s.pixels[k]
        densN[k]++
      }
    }
  })
  const ringTotal = ring.reduce((a, b) => a + b, 0)
  const n = results.length
  return {
    group,
    requests: n,
    emptyMasks: empty,
    recovered: results.filter((r) => r.recovered).length,
    meanMaskL1: results.reduce((a, r) => a + (r.maskL1 ?? 0), 0) / Math.max(n, 1),
    meanScoreOriginal: results.reduce((a, r) => a + r.scoreOriginal, 0) / Math.max(n, 1),
    meanScorePerturbed: results.reduce((a, r) => a + (r.scorePerturbed ?? 0), 0) / Math.max(n, 1),
    classes: NAMES.map((name, k) => ({
      name,
      share: total > 0 ? mass[k] / total : null,
      density: pixels[k] > 0 ? mass[k] / pixels[k] : null,
      meanDensity: densN[k] > 0 ? densSum[k] / densN[k] : null,
      presentIn: densN[k],
      contourShare: ringTotal > 0 ? ring[k] / ringTotal : null
    }))
  }
}

function printTable(t: GroupTable): void {
  console.log(
    `\n${t.group}: ${t.requests} requests, ${t.emptyMasks} empty masks, ${t.recovered} recovered, mean ‖M‖₁ ${t.meanMaskL1.toFixed(2)}, ` +
      `score ${t.meanScoreOriginal.toFixed(3)} → ${t.meanScorePerturbed.toFixed(3)}`
  )
  console.log('  class        share   density  mean-dens  in-ctx  contour-share')
  for (const c of t.classes) {
    console.log(
      `  ${c.name.padEnd(11)} ${f3(c.share).padStart(6)}  ${f3(c.density).padStart(7)}  ${f3(c.meanDensity).padStart(9)}  ${String(c.presentIn).padStart(6)}  ${f3(c.contourShare).padStart(8)}`
    )
  }
  const dens = t.classes.map((c) => c.density ?? 0)
  const top = dens.indexOf(Math.max(...dens))
  const others = dens.filter((_, k) => k !== top)
  const ratio = Math.max(...others) > 0 ? dens[top] / Math.max(...others) : Infinity
  const bi = dens[BICYCLE]
  const otherThanBike = Math.max(...dens.filter((_, k) => k !== BICYCLE))
  console.log(
    `  highest density: ${NAMES[top]} (${f3(dens[top])}), ${ratio.toFixed(2)}× the next; bicycle density ${f3(bi)} = ` +
      `${otherThanBike > 0 ? (bi / otherThanBike).toFixed(2) : '∞'}× the highest other class`
  )
}

function sample<T>(items: T[], n: number, rand: () => number): T[] {
  const a = items.slice()
  shuffleInPlace(a, rand)
  return a.slice(0, n)
}

async function main(): Promise<void> {
  const t0 = performance.now()
  const info = await initBackend()
  const loaded = await loadModel(modelDir)
  const prepared = fromLoadedModel(loaded)
  const sidecar = loaded.sidecar
  const training = (sidecar.training ?? {}) as Record<string, unknown>
  const dataSpec = parseStreetScenesSpec((training.datasetSpec as StreetScenesSpecInput | undefined) ?? {})
  const test = await generateStreetSceneArrays(dataSpec, 'test')
  const { height: H, width: W } = test
  const px = H * W
  console.log(`model ${sidecar.name} (${sidecar.architecture}), backend ${info.name}; test split: ${test.count} images ${H}×${W}`)

  // 1. Predictions and confusion.
  const pred = new Uint16Array(test.count * px)
  const chunk = 25
  for (let s = 0; s < test.count; s += chunk) {
    const n = Math.min(chunk, test.count - s)
    pred.set(await predictLabelMaps(prepared, test.images.subarray(s * px * 3, (s + n) * px * 3), [n, H, W, 3]), s * px)
  }
  const confusion = Array.from({ length: K }, () => new Array(K).fill(0)) // [gt][pred]
  for (let i = 0; i < pred.length; i++) confusion[test.labels[i]][pred[i]]++
  const iou = NAMES.map((_, k) => {
    const tp = confusion[k][k]
    const fn = confusion[k].reduce((a, b) => a + b, 0) - tp
    const fp = confusion.reduce((a, row) => a + row[k], 0) - tp
    return tp + fn + fp > 0 ? tp / (tp + fn + fp) : null
  })
  const present = iou.filter((v): v is number => v !== null)
  const miou = present.reduce((a, b) => a + b, 0) / present.length
  const correct = confusion.reduce((a, row, k) => a + row[k], 0)
  const pixelAccuracy = correct / pred.length
  console.log(`\ntest pixel accuracy ${pixelAccuracy.toFixed(4)}, mIoU ${miou.toFixed(4)}`)
  NAMES.forEach((name, k) => console.log(`  IoU ${name.padEnd(11)} ${f3(iou[k])}`))
  console.log('\nconfusion (rows GT, columns predicted; % of GT pixels):')
  console.log(`  ${''.padEnd(11)} ${NAMES.map((n) => n.slice(0, 6).padStart(7)).join('')}`)
  confusion.forEach((row, k) => {
    const sum = row.reduce((a, b) => a + b, 0)
    console.log(`  ${NAMES[k].padEnd(11)} ${row.map((v) => (sum ? ((100 * v) / sum).toFixed(1) : '—').padStart(7)).join('')}`)
  })

  // 2. Riders and persons by instance.
  type Fig = { image: number; instance: number; kind: 'rider' | 'person'; hidden: string | null; pixels: number; asRider: number; asPerson: number; other: number }
  /** A figure's segment reads as rider or person when those two cover at least half its pixels; the larger wins. */
  const segmentClass = (f: Fig): 'rider' | 'person' | 'neither' =>
    f.asRider + f.asPerson < 0.5 * f.pixels ? 'neither' : f.asPerson > f.asRider ? 'person' : 'rider'
  const figures: Fig[] = []
  for (let i = 0; i < test.count; i++) {
    for (const o of test.meta[i].objects) {
      if ((o.kind !== 'rider' && o.kind !== 'person') || o.visiblePixels === 0) continue
      const f: Fig = { image: i, instance: o.instance, kind: o.kind, hidden: o.hidden ?? null, pixels: 0, asRider: 0, asPerson: 0, other: 0 }
      for (let p = 0; p < px; p++) {
        if (test.instances[i * px + p] !== o.instance) continue
        f.pixels++
        const c = pred[i * px + p]
        if (c === RIDER) f.asRider++
        else if (c === PERSON) f.asPerson++
        else f.other++
      }
      if (f.pixels > 0) figures.push(f)
    }
  }
  const summarise = (label: string, list: Fig[]) => {
    const pixels = list.reduce((a, f) => a + f.pixels, 0)
    const asRider = list.reduce((a, f) => a + f.asRider, 0)
    const asPerson = list.reduce((a, f) => a + f.asPerson, 0)
    const segRider = list.filter((f) => segmentClass(f) === 'rider').length
    const segPerson = list.filter((f) => segmentClass(f) === 'person').length
    const row = { label, instances: list.length, pixels, pixelsAsRider: asRider, pixelsAsPerson: asPerson, pixelsOther: pixels - asRider - asPerson, segmentsAsRider: segRider, segmentsAsPerson: segPerson, segmentsNeither: list.length - segRider - segPerson }
    console.log(
      `  ${label.padEnd(34)} ${String(list.length).padStart(4)} inst, ${String(pixels).padStart(6)} px: rider ${pct(asRider, pixels).padStart(6)}, person ${pct(asPerson, pixels).padStart(6)}, other ${pct(pixels - asRider - asPerson, pixels).padStart(6)} | segments → rider ${segRider}, person ${segPerson}, neither ${row.segmentsNeither}`
    )
    return row
  }
  console.log('\nfigures (pixels of each GT instance by predicted class; segment = rider or person when they cover ≥ half the instance, the larger of the two):')
  const riders = figures.filter((f) => f.kind === 'rider')
  const persons = figures.filter((f) => f.kind === 'person')
  const figureRows = [
    summarise('riders, all', riders),
    summarise('riders, bicycle visible', riders.filter((f) => !f.hidden)),
    summarise('riders, bicycle hidden (any)', riders.filter((f) => f.hidden)),
    summarise('riders, bicycle hidden by a car', riders.filter((f) => f.hidden === 'car')),
    summarise('riders, bicycle below the border', riders.filter((f) => f.hidden === 'border')),
    summarise('persons, all', persons),
    summarise('persons, whole', persons.filter((f) => !f.hidden)),
    summarise('persons, truncated (car/border)', persons.filter((f) => f.hidden))
  ]

  // 3. Context saliency probe.
  const rand = uniform01(seed ^ 0x2545f491)
  const cases: Case[] = []
  const makeCase = (f: Fig, predClass: number, group: Case['group'], classId: number): Case | null => {
    const request = new Uint8Array(px)
    let n = 0
    for (let p = 0; p < px; p++) {
      if (test.instances[f.image * px + p] === f.instance && pred[f.image * px + p] === predClass) {
        request[p] = 1
        n++
      }
    }
    return n >= minPixels ? { group, image: f.image, instance: f.instance, hidden: f.hidden, requestPixels: n, request, classId } : null
  }
  const pick = (list: Fig[], predClass: number, group: Case['group'], classId: number) => {
    const candidates = list.map((f) => makeCase(f, predClass, group, classId)).filter((c): c is Case => c !== null)
    const chosen = sample(candidates, samples, rand)
    console.log(`  ${group}: ${candidates.length} candidates with ≥ ${minPixels} px, ${chosen.length} sampled`)
    cases.push(...chosen)
  }
  console.log(`\ncontext saliency probe (${maskHeight}×${maskWidth} mask, ${steps} steps, lr ${lr}, λ ${lambda}, ${baselineKind} baseline):`)
  pick(riders.filter((f) => segmentClass(f) === 'rider'), RIDER, 'rider-correct', RIDER)
  pick(persons.filter((f) => segmentClass(f) === 'person'), PERSON, 'person-correct', PERSON)
  pick(riders.filter((f) => segmentClass(f) === 'person'), PERSON, 'rider-as-person', PERSON)

  let baseline: { kind: 'constant'; value: number | number[] } = { kind: 'constant', value: 0 }
  if (baselineKind === 'mean') {
    const mean = [0, 0, 0]
    for (let i = 0; i < test.images.length; i++) mean[i % 3] += test.images[i]
    baseline = { kind: 'constant', value: mean.map((m) => m / (test.images.length / 3)) }
  }
  const params: SaliencyParams = saliencyParams('context', 'cityscapes', { maskHeight, maskWidth, steps, learningRate: lr, lambda, baseline })
  const requests: SaliencyRequest[] = cases.map((c, i) => ({
    id: String(i),
    image: { data: test.images.slice(c.image * px * 3, (c.image + 1) * px * 3), height: H, width: W, channels: 3 },
    request: c.request,
    classId: c.classId
  }))
  const ts = performance.now()
  let results: SaliencyResult[]
  if (workers > 0) {
    const pool = await EnginePool.create(workers, { backend: info.name, handlerModules: engineHandlerModules() })
    try {
      const parts = await pool.split<SaliencyResult[]>('saliency', requests.length, ({ start, end }) => ({
        payload: { modelDir, requests: requests.slice(start, end), params, maxBatch: 16, upsample: true }
      }))
      results = parts.flat()
    } finally {
      await pool.dispose()
    }
  } else {
    results = await computeSaliency(prepared, requests, params, { maxBatch: 16, upsample: true })
  }
  const salSeconds = (performance.now() - ts) / 1000
  console.log(`  ${requests.length} requests in ${salSeconds.toFixed(1)} s (${((1000 * salSeconds) / Math.max(requests.length, 1)).toFixed(0)} ms per request)`)

  const stats = cases.map((c, i) => contextStats(upsampledMap(results[i]), c.request, test.labels.subarray(c.image * px, (c.image + 1) * px), H, W))
  const groups = (['rider-correct', 'person-correct', 'rider-as-person'] as const).map((g) => {
    const idx = cases.map((c, i) => (c.group === g ? i : -1)).filter((i) => i >= 0)
    const t = table(
      g,
      idx.map((i) => results[i]),
      idx.map((i) => stats[i])
    )
    printTable(t)
    return t
  })
  // Visible vs hidden bicycle among the correctly predicted riders.
  const riderSplit = (['visible', 'hidden'] as const).map((v) => {
    const idx = cases.map((c, i) => (c.group === 'rider-correct' && (v === 'hidden') === Boolean(c.hidden) ? i : -1)).filter((i) => i >= 0)
    return table(
      `rider-correct, bicycle ${v}`,
      idx.map((i) => results[i]),
      idx.map((i) => stats[i])
    )
  })
  for (const t of riderSplit) if (t.requests > 0) printTable(t)

  const perRequest = cases.map((c, i) => ({
    group: c.group,
    image: c.image,
    instance: c.instance,
    hidden: c.hidden,
    requestPixels: c.requestPixels,
    scoreOriginal: results[i].scoreOriginal,
    scorePerturbed: results[i].scorePerturbed,
    maskL1: results[i].maskL1,
    recovered: results[i].recovered,
    contextSaliency: stats[i].total,
    bicycleShare: stats[i].total > 0 ? stats[i].mass[BICYCLE] / stats[i].total : 0,
    bicycleDensity: stats[i].pixels[BICYCLE] > 0 ? stats[i].mass[BICYCLE] / stats[i].pixels[BICYCLE] : null,
    mask: Array.from(results[i].mask, (v) => Number(v.toFixed(4)))
  }))

  const report = {
    model: modelDir,
    contentHash: sidecar.contentHash,
    command: ['npx', 'tsx', 'scripts/eval-demo.ts', ...process.argv.slice(2)].join(' '),
    backend: info.name,
    dataset: { spec: dataSpec, split: 'test', images: test.count },
    segmentation: { pixelAccuracy, miou, iou: Object.fromEntries(NAMES.map((n, k) => [n, iou[k]])), confusion: { classes: NAMES, rowsGtColsPred: confusion } },
    figures: figureRows,
    saliency: {
      params,
      minPixels,
      contourRadius,
      upsample: 'bilinear, half-pixel centres (upsampleBilinear)',
      aggregation: 'share_k = Σ_r S_rk / Σ_r S_r over context pixels; density_k = Σ_r S_rk / Σ_r N_rk; meanDensity = mean over requests whose context holds class k',
      seconds: salSeconds,
      groups,
      riderCorrectByBicycle: riderSplit,
      perRequest
    },
    seconds: (performance.now() - t0) / 1000
  }
  await writeFile(outPath, `${JSON.stringify(report, null, 1)}\n`)
  console.log(`\nwrote ${outPath} in ${report.seconds.toFixed(0)} s total`)
  prepared.dispose()
  tf.disposeVariables()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
