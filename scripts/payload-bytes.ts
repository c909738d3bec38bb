/**
 * `npx tsx scripts/payload-bytes.ts`: the bytes one image-screen saliency run moves, as the payloads were before
 * issue 14 item 4 and as they are now, for the street-scenes fixture (128×64, synthetic preset: 4×4 mask, 100
 * steps) and a Cityscapes frame (2048×1024, cityscapes preset: 16×32 mask, 80 steps).
 *
 * - image → worker: the saliency task's payload, the image as Float32 model input (before) or RGB bytes (now);
 * - worker → main: the task's result message, with the image-sized upsampled map (before) or the mask alone;
 * - view over IPC: the ExplanationView as Electron's structured clone serialises it (V8's serializer, which
 *   `v8.serialize` is), base64 strings of the upsampled display bytes and the request (before), or the map as a
 *   Float32Array and the request as runs (now);
 * - view over HTTP: the reply's JSON, base64 strings (before) or the wire codec's tagged base64 (now).
 *
 * The objects have the real fields and shapes (loss curve of every step, the deletion check's 9 points); their
 * values are arbitrary, which changes no size but that of the JSON numbers by a few bytes.
 */
import { serialize } from 'node:v8'
import { maskToRuns } from '../src/common/maskRuns'
import { saliencyDisplayBytes, upsampleBilinear } from '../src/common/saliencyMap'
import { saliencyParams, type SaliencyPresetName } from '../src/common/saliency'
import { stringifyWire } from '../src/common/wire'

interface Case {
  name: string
  width: number
  height: number
  preset: SaliencyPresetName
}

const CASES: Case[] = [
  { name: 'street scenes 128×64, 4×4 mask', width: 128, height: 64, preset: 'synthetic' },
  { name: 'Cityscapes 2048×1024, 16×32 mask', width: 2048, height: 1024, preset: 'cityscapes' }
]

const base64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')

function measure(c: Case) {
  const params = saliencyParams('context', c.preset) as ReturnType<typeof saliencyParams> & { maskHeight: number; maskWidth: number; steps: number }
  const { width, height } = c
  const px = width * height
  const rgb = new Uint8Array(px * 3).map((_, i) => (i * 37) & 255)
  const input = Float32Array.from(rgb, (v) => v / 255)
  const request = new Uint8Array(px)
  // A block of a quarter of the image's rows and half its columns, as a segment would be.
  for (let y = height / 4; y < height / 2; y++) request.fill(1, y * width + width / 4, y * width + (3 * width) / 4)
  const mask = new Float32Array(params.maskHeight * params.maskWidth).map((_, i) => (i % 7) / 7)
  const upsampled = upsampleBilinear(mask, params.maskHeight, params.maskWidth, height, width)

  const payload = (image: object) => ({ kind: 'task', id: 1, type: 'saliency', payload: { modelDir: '/models/unet', requests: [{ image, request, classId: 7 }], params, stream: false } })
  const imageBefore = serialize(payload({ data: input, height, width, channels: 3 })).byteLength
  const imageNow = serialize(payload({ rgb, height, width })).byteLength

  const faithfulness = {
    value: 0.3, aucSalient: 0.4, aucRandom: 0.6, randomAucs: [0.6, 0.61, 0.59],
    fractions: Array.from({ length: 9 }, (_, i) => i / 8), salient: Array.from({ length: 9 }, (_, i) => 1 - i / 9), random: Array.from({ length: 9 }, (_, i) => 1 - i / 10),
    contextCells: mask.length, images: 30, timeMs: 812.5, params: { steps: 8, randomOrders: 3, seed: 0, baseline: { kind: 'constant', value: 0 } }
  }
  const result = {
    method: 'context', classId: 7, imageHeight: height, imageWidth: width, maskHeight: params.maskHeight, maskWidth: params.maskWidth, mask,
    scoreOriginal: 0.81, scorePerturbed: 0.8, scoreStart: 0.7, scoreEmptyMask: 0.2, preservation: 0.004, maskL1: 3.2, maskTerm: 0.16, recovered: true,
    lossCurve: Array.from({ length: params.steps }, (_, i) => 1 / (i + 1)), stepsRun: params.steps, stoppedEarly: false, timeMs: 1234.5, batchTimeMs: 1234.5, batchSize: 1,
    params, faithfulness
  }
  const resultBefore = serialize({ kind: 'result', id: 1, result: [{ ...result, upsampled }] }).byteLength
  const resultNow = serialize({ kind: 'result', id: 1, result: [result] }).byteLength

  const view = {
    id: 12, imageId: 3, modelId: 1, segmentId: 40, method: 'context', classId: 7, params: { ...params, preset: c.preset },
    summary: { scoreOriginal: 0.81, scorePerturbed: 0.8, preservation: 0.004, maskL1: 3.2, recovered: true, faithfulness, lossCurve: result.lossCurve },
    width, height, saliencyHeight: params.maskHeight, saliencyWidth: params.maskWidth, createdAt: '2026-12-03 07:40:00'
  }
  const viewBefore = { ...view, saliency: base64(saliencyDisplayBytes({ ...view, saliency: mask })), request: base64(request) }
  const viewNow = { ...view, saliency: mask, request: maskToRuns(request) }
  const reply = (v: object) => ({ ok: true, result: v })
  return {
    imageBefore, imageNow, resultBefore, resultNow,
    ipcBefore: serialize(reply(viewBefore)).byteLength, ipcNow: serialize(reply(viewNow)).byteLength,
    httpBefore: Buffer.byteLength(JSON.stringify(reply(viewBefore))), httpNow: Buffer.byteLength(stringifyWire(reply(viewNow)))
  }
}

const kb = (n: number) => (n < 10_000 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`)
console.log('| case | message | before | now | now / before |')
console.log('|---|---|---:|---:|---:|')
for (const c of CASES) {
  const m = measure(c)
  const rows: [string, number, number][] = [
    ['image → worker (saliency task)', m.imageBefore, m.imageNow],
    ['worker → main (result)', m.resultBefore, m.resultNow],
    ['view over IPC (structured clone)', m.ipcBefore, m.ipcNow],
    ['view over HTTP (JSON)', m.httpBefore, m.httpNow]
  ]
  for (const [what, before, now] of rows) console.log(`| ${c.name} | ${what} | ${kb(before)} | ${kb(now)} | ${(now / before).toPrecision(2)} |`)
}
