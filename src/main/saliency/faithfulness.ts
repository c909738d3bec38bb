/**
 * Deletion faithfulness of an explanation, the same for every method (grid and context saliency, VG/IG/SG): does the
 * requested score fall faster when the context the map calls most salient is removed first than when context is
 * removed in random order?
 *
 * The map's cells (at its own resolution h×w; pixel (y, x) belongs to cell (⌊y·h/H⌋, ⌊x·w/W⌋)) that have pixels
 * outside the request R are the context cells. They are removed cumulatively in K steps (1/K, 2/K … all of them),
 * a removed cell's pixels outside R showing the baseline; R's own pixels are never changed, also for the grid form,
 * because the question is what context the score rests on. After each step S(x, R, c), the mean class-c
 * probability over R, is recorded: the deletion curve. The area under a curve (trapezoids over the removed part,
 * score divided by the original score) is small when the score falls early.
 *
 *   faithfulness = (AUC_random − AUC_salient) / AUC_random
 *
 * 0: removing salient context first hurts no more than random removal; up to 1 when the score is gone after the
 * first salient step; negative when the map points at context the score does not rest on. Ties in the map (masks
 * clamped at 0 or 1, a constant map) are broken by each random order, so the salient curve is the mean over the
 * random orders re-sorted by saliency: a map without ranking information scores exactly 0. The end point (all
 * context removed) is common to all orders; 1 − its normalised score says how much the score rests on context at all.
 *
 * One batched predict per explanation (split only for large images): each distinct set of removed cells is run once.
 */
import { AppError } from '@common/errors'
import { type Faithfulness, type FaithfulnessParams, type FaithfulnessParamsInput, FaithfulnessParamsSchema } from '@common/saliency'
import { shuffleInPlace, uniformStream } from '../prng'
import { baselineImages } from './baseline'
import { throwIfAborted } from '../cancellation'
import { SALIENCY_CANCELLED, type SaliencyRequest } from './batch'
import type { SegmentationModel } from './model'

/** A saliency map at its own resolution, row-major; larger = more salient (a preserved mask cell, |gradient|). */
export interface SaliencyMap {
  values: Float32Array
  height: number
  width: number
}

/** Most pixels (images × H × W) per predict call: the demo's 64×128 images go in one call, 512×1024 ones in eights. */
const PIXELS_PER_PREDICT = 1 << 22

/** Below this the original score carries no signal to normalise by. */
const MIN_SCORE = 1e-6

/** Pixel indices outside R of each cell that has some, in cell order; the cells' indices into the map beside them. */
export function contextCells(request: Uint8Array, height: number, width: number, map: Pick<SaliencyMap, 'height' | 'width'>): { cells: number[]; pixels: number[][] } {
  const byCell = new Map<number, number[]>()
  for (let y = 0; y < height; y++) {
    const cy = Math.floor((y * map.height) / height)
    for (let x = 0; x < width; x++) {
      const p = y * width + x
      if (request[p] !== 0) continue
      const cell = cy * map.width + Math.floor((x * map.width) / width)
      const list = byCell.get(cell)
      if (list) list.push(p)
      else byCell.set(cell, [p])
    }
  }
  const cells = [...byCell.keys()].sort((a, b) => a - b)
  return { cells, pixels: cells.map((c) => byCell.get(c)!) }
}

/** ∫₀¹ of a curve given at increasing x (from 0 to 1), by trapezoids. */
function area(x: readonly number[], y: readonly number[]): number {
  let s = 0
  for (let i = 1; i < x.length; i++) s += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2
  return s
}

export async function deletionFaithfulness(
  model: SegmentationModel,
  request: SaliencyRequest,
  map: SaliencyMap,
  paramsInput: FaithfulnessParamsInput | FaithfulnessParams = {},
  options: { signal?: AbortSignal } = {}
): Promise<Faithfulness> {
  const t0 = performance.now()
  const params = FaithfulnessParamsSchema.parse(paramsInput)
  const { image, classId } = request
  const { height: H, width: W, channels: C } = image
  if (map.values.length !== map.height * map.width) {
    throw new AppError('INVALID_PARAMETERS', `saliency map has ${map.values.length} values, expected ${map.height}×${map.width}`)
  }
  const { cells, pixels } = contextCells(request.request, H, W, map)
  const n = cells.length
  const K = params.steps

  // Removed cells after step k of an order: its first counts[k] entries (positions into `cells`).
  const counts = Array.from({ length: K + 1 }, (_, k) => Math.round((k * n) / K))
  const fractions = n > 0 ? counts.map((c) => c / n) : [0]
  const randomOrders = Array.from({ length: params.randomOrders }, (_, j) => {
    const order = Array.from({ length: n }, (_, i) => i)
    shuffleInPlace(order, uniformStream(params.seed, j))
    return order
  })
  // Stable sort: cells of equal saliency stay in the random order's sequence.
  const salientOrders = randomOrders.map((order) => [...order].sort((a, b) => map.values[cells[b]] - map.values[cells[a]]))

  // Distinct removed sets, each one image; key 0 cells = the unperturbed image.
  const keyOf = (order: number[], k: number): string => order.slice(0, counts[k]).sort((a, b) => a - b).join(',')
  const slots = new Map<string, number[]>()
  const slotOf = (order: number[], k: number): string => {
    const key = keyOf(order, k)
    if (!slots.has(key)) slots.set(key, order.slice(0, counts[k]))
    return key
  }
  const steps = n > 0 ? counts.map((_, k) => k) : [0]
  const salientKeys = salientOrders.map((o) => steps.map((k) => slotOf(o, k)))
  const randomKeys = randomOrders.map((o) => steps.map((k) => slotOf(o, k)))

  const one = { batch: 1, height: H, width: W, channels: C }
  const baseline = baselineImages(image.data, one, params.baseline, model.inputRange)
  const [lo, hi] = model.inputRange
  const removed = [...slots.values()]
  const fill = (i: number, out: Float32Array): void => {
    out.set(image.data)
    for (const cell of removed[i]) {
      for (const p of pixels[cell]) {
        for (let c = 0; c < C; c++) out[p * C + c] = Math.min(hi, Math.max(lo, baseline[p * C + c]))
      }
    }
  }
  throwIfAborted(options.signal, SALIENCY_CANCELLED)
  const scores = await requestScoresOf(model, removed.length, fill, image, request.request, classId)
  const keys = [...slots.keys()]
  const scoreOf = new Map(keys.map((k, i) => [k, scores[i]]))
  const curve = (orderKeys: string[][]): number[] => steps.map((_, s) => orderKeys.reduce((a, ks) => a + scoreOf.get(ks[s])!, 0) / orderKeys.length)
  const salient = curve(salientKeys)
  const random = curve(randomKeys)
  const s0 = salient[0]
  const usable = n > 0 && s0 > MIN_SCORE
  const norm = (ys: number[]) => ys.map((y) => y / s0)
  const aucSalient = usable ? area(fractions, norm(salient)) : null
  const randomAucs = usable ? randomKeys.map((ks) => area(fractions, norm(ks.map((k) => scoreOf.get(k)!)))) : []
  const aucRandom = usable ? area(fractions, norm(random)) : null
  const value = aucSalient !== null && aucRandom !== null && aucRandom > MIN_SCORE ? (aucRandom - aucSalient) / aucRandom : null
  return {
    value,
    aucSalient,
    aucRandom,
    randomAucs,
    fractions,
    salient,
    random,
    contextCells: n,
    images: keys.length,
    timeMs: performance.now() - t0,
    params
  }
}

/** S(x, R, c) of each image `fill` makes, predicted in as few calls as the pixel budget allows. */
async function requestScoresOf(
  model: SegmentationModel,
  count: number,
  fill: (i: number, out: Float32Array) => void,
  size: { height: number; width: number; channels: number },
  request: Uint8Array,
  classId: number
): Promise<number[]> {
  const { height, width, channels } = size
  const hw = height * width
  const per = hw * channels
  const k = model.numClasses
  const inR: number[] = []
  for (let p = 0; p < hw; p++) if (request[p] !== 0) inR.push(p)
  const chunk = Math.max(1, Math.floor(PIXELS_PER_PREDICT / hw))
  const scores: number[] = []
  for (let start = 0; start < count; start += chunk) {
    const b = Math.min(chunk, count - start)
    const images = new Float32Array(b * per)
    for (let i = 0; i < b; i++) fill(start + i, images.subarray(i * per, (i + 1) * per))
    const f = await model.predict(images, { batch: b, height, width, channels })
    if (f.length !== b * hw * k) {
      throw new AppError('MODEL_OUTPUT_MISMATCH', `model output has ${f.length} values, expected ${b}×${height}×${width}×${k} (input size, ${k} classes)`)
    }
    for (let i = 0; i < b; i++) {
      let s = 0
      for (const p of inR) s += f[(i * hw + p) * k + classId]
      scores.push(s / inR.length)
    }
  }
  return scores
}
