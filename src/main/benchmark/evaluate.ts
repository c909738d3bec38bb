import type { BenchmarkConfig, BenchmarkMethod } from '@common/benchmark'
import type { ModelSidecar } from '@common/modelSidecar'
import type { SaliencyParamsInput } from '@common/saliency'
import { upsampledMap } from '@common/saliencyMap'
import { TEXTURE_MNIST_CLASS_COUNT, TEXTURE_MNIST_SIZE } from '@common/textureMnist'
import { biasedTileMask } from '../datasets/textureMnist'
import type { EnginePool } from '../engine/pool/pool'
import { poolEngine } from '../jobs/saliencyEngine'
import { ConfusionMatrix, contextBias } from '../metrics'
import { parseSaliencyParams, type SaliencyRequest } from '../saliency'
import type { TestImages } from './testSets'

const S = TEXTURE_MNIST_SIZE
const PX = S * S

export interface Hooks {
  signal?: AbortSignal
  onProgress?: (done: number, total: number) => void
}

/** Predicted label maps, in chunks spread over the pool so progress moves and memory stays bounded. */
export async function predictLabels(pool: EnginePool, modelDir: string, set: TestImages, hooks: Hooks = {}): Promise<Uint16Array> {
  const out = new Uint16Array(set.count * PX)
  const chunk = 100
  for (let s = 0; s < set.count; s += chunk) {
    const e = Math.min(set.count, s + chunk)
    const parts = await pool.split<Uint16Array>(
      'labels',
      e - s,
      (r) => ({ payload: { modelDir, images: set.images.slice((s + r.start) * PX, (s + r.end) * PX), shape: [r.end - r.start, S, S, 1] } }),
      { signal: hooks.signal }
    )
    let at = s * PX
    for (const p of parts) {
      out.set(p, at)
      at += p.length
    }
    hooks.onProgress?.(e, set.count)
  }
  return out
}

export interface EvalUnit {
  testSet: string
  images: number
  /** IoU per class 0–10 (10 = background) over the whole set. */
  classIou: (number | null)[]
  miou: number | null
  pixelAccuracy: number
}

export function segmentationScores(set: TestImages, predicted: Uint16Array): EvalUnit {
  const cm = new ConfusionMatrix(TEXTURE_MNIST_CLASS_COUNT)
  cm.add(set.labels, predicted)
  return { testSet: set.description, images: set.count, classIou: cm.perClassIoU(), miou: cm.meanIoU(), pixelAccuracy: cm.pixelAccuracy() ?? 0 }
}

export function methodParams(config: BenchmarkConfig, method: BenchmarkMethod): SaliencyParamsInput {
  const s = config.saliency
  const grad = { form: 'context' as const, saliencyHeight: s.gradientHeight, saliencyWidth: s.gradientWidth }
  switch (method) {
    case 'context':
      return { method: 'context', ...s.context }
    case 'vg':
      return { method: 'vg', ...grad }
    case 'ig':
      return { method: 'ig', ...grad, steps: s.igSteps }
    case 'sg':
      return { method: 'sg', ...grad, samples: s.sgSamples, sigma: s.sgSigma }
  }
}

export interface ImageRecord {
  /** Index of the image in its test split. */
  index: number
  digit: number
  cbd: number | null
  cbl: number | null
  /** Pixels of the request (the predicted digit segment) and of the ground-truth digit. */
  requestArea: number
  gtArea: number
  biasedTile: number | null
  /**
   * Perturbation methods: S on the original image, with the initial mask (before the first step) and with the
   * final mask. A collapsed mask whose start is already ≈ 0 had nothing to preserve (issue 18's diagnosis).
   */
  scoreOriginal?: number
  scoreStart?: number | null
  scoreFinal?: number | null
  /** S with all context removed (M = 0): near scoreOriginal, the request did not need its context. */
  scoreEmptyMask?: number | null
}

export interface ExplainUnit {
  method: BenchmarkMethod
  testSet: string
  records: ImageRecord[]
  /** Images left out because the network predicted (almost) none of the digit. */
  skipped: { index: number; digit: number; requestArea: number }[]
  seconds: number
  params: unknown
}

/**
 * The request of each image is, by default, the network's predicted segment of the ground-truth digit (pixels
 * predicted as that digit inside the digit): the explanation is of what the network segmented. C = 1 − R_GT and
 * C_bias is the image's biased tile (none for images without the bias texture, whose CBL is undefined).
 */
export function buildRequests(
  set: TestImages,
  predicted: Uint16Array,
  minArea: number,
  source: 'predicted' | 'predicted-all' | 'ground-truth' = 'predicted'
) {
  const requests: SaliencyRequest[] = []
  const kept: number[] = []
  const areas: number[] = []
  const skipped: ExplainUnit['skipped'] = []
  for (let i = 0; i < set.count; i++) {
    const digit = set.meta[i].digit
    const mask = new Uint8Array(PX)
    let area = 0
    for (let p = 0; p < PX; p++) {
      const pred = predicted[i * PX + p] === digit
      const gt = set.labels[i * PX + p] === digit
      if (source === 'predicted' ? pred && gt : source === 'predicted-all' ? pred : gt) {
        mask[p] = 1
        area++
      }
    }
    if (area < minArea) {
      skipped.push({ index: set.indices[i], digit, requestArea: area })
      continue
    }
    kept.push(i)
    areas.push(area)
    requests.push({
      image: { data: set.images.slice(i * PX, (i + 1) * PX), height: S, width: S, channels: 1 },
      request: mask,
      classId: digit,
      id: String(set.indices[i])
    })
  }
  return { requests, kept, areas, skipped }
}

export async function explainSet(
  pool: EnginePool,
  model: { dir: string; sidecar: ModelSidecar },
  config: BenchmarkConfig,
  method: BenchmarkMethod,
  set: TestImages,
  predicted: Uint16Array,
  hooks: Hooks = {}
): Promise<ExplainUnit> {
  const t0 = performance.now()
  const params = parseSaliencyParams(methodParams(config, method))
  const { requests, kept, areas, skipped } = buildRequests(set, predicted, config.data.minRequestArea, config.saliency.request)
  // Context bias is measured on the map at image size, so the workers send it upsampled.
  const engine = poolEngine(pool, model.dir, model.sidecar, { upsample: true })
  const results = requests.length
    ? await engine.saliency(requests, params, { signal: hooks.signal, onProgress: hooks.onProgress })
    : []
  const records: ImageRecord[] = results.map((r, k) => {
    const i = kept[k]
    const meta = set.meta[i]
    const gt = new Uint8Array(PX)
    let gtArea = 0
    for (let p = 0; p < PX; p++) {
      if (set.labels[i * PX + p] === meta.digit) {
        gt[p] = 1
        gtArea++
      }
    }
    const m = contextBias(upsampledMap(r), gt, biasedTileMask(meta, S))
    const scores = r.scorePerturbed === null ? {} : { scoreOriginal: r.scoreOriginal, scoreStart: r.scoreStart ?? null, scoreFinal: r.scorePerturbed, scoreEmptyMask: r.scoreEmptyMask ?? null }
    return { index: set.indices[i], digit: meta.digit, cbd: m.cbd, cbl: m.cbl, requestArea: areas[k], gtArea, biasedTile: meta.biasedTile, ...scores }
  })
  return { method, testSet: set.description, records, skipped, seconds: (performance.now() - t0) / 1000, params }
}
