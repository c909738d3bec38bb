import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { AppError } from '@common/errors'
import { upsampledMap } from '@common/saliencyMap'
import type { SaliencyMethod, SaliencyResult } from '@common/saliency'
import { channelOfModelClass } from '../classChannels'
import { predictedSegments, segmentMask } from '../datasets/segments'
import { presetSaliencyParams } from '../saliency'
import { readImageForModel, readRequestMask } from './imageInput'
import { encodeNpy } from './npy'
import { renderOverlay } from './overlay'
import type { RunHooks, SaliencyEngine } from '../jobs/saliencyEngine'

export type RequestSource = { kind: 'file'; path: string } | { kind: 'auto'; minArea: number }

export interface ExplainImageInput {
  imagePath: string
  classId: number
  request: RequestSource
  method: SaliencyMethod
  preset: 'synthetic' | 'cityscapes'
  /** Parameter overrides on top of the preset (validated by the saliency schema). */
  params: Record<string, unknown>
  outDir: string
}

export interface ExplainedRequest {
  name: string
  area: number
  bbox: [number, number, number, number] | null
  files: { maskPng: string; maskNpy: string; overlayPng: string; summaryJson: string }
  summary: Omit<SaliencyResult, 'mask' | 'upsampled'> & { maskValues: number[] }
}

/**
 * `ctxlens explain`: one image, one class, a request drawn by hand or every predicted segment of that class, any
 * method; writes per request the mask (PNG at image size, NPY at native size), a paper-style overlay and a JSON
 * summary.
 */
export async function explainImage(engine: SaliencyEngine, input: ExplainImageInput, options: RunHooks = {}): Promise<ExplainedRequest[]> {
  const channel = channelOfModelClass(engine.sidecar, input.classId)
  const params = presetSaliencyParams(input.method, input.preset, input.params)
  const image = await readImageForModel(input.imagePath, engine.sidecar)
  const { width, height } = image

  let requests: { name: string; mask: Uint8Array; area: number; bbox: [number, number, number, number] | null }[]
  if (input.request.kind === 'file') {
    const mask = await readRequestMask(input.request.path, width, height)
    requests = [{ name: 'request', mask, area: mask.reduce((a, b) => a + b, 0), bbox: null }]
  } else {
    const labels = await engine.labels(image, { signal: options.signal })
    const minArea = input.request.minArea
    requests = predictedSegments(labels, width, height, { minArea })
      .filter((s) => s.predClass === input.classId)
      .map((s, i) => ({ name: `segment-${i + 1}`, mask: segmentMask(s, width, height), area: s.area, bbox: s.bbox }))
    if (requests.length === 0) {
      throw new AppError('EMPTY_REQUEST_MASK', `The model predicts no segment of class ${input.classId} of at least ${minArea} px in ${input.imagePath}`, {
        classId: input.classId
      })
    }
  }

  const saliencyRequests: Parameters<SaliencyEngine['saliency']>[0] = requests.map((r) => ({
    id: r.name,
    // The RGB, a quarter of the bytes: the workers make the model's input from it as readImageForModel did.
    image: { rgb: image.rgb, height, width },
    request: r.mask,
    classId: channel
  }))
  const results = await engine.saliency(saliencyRequests, params, options)

  await mkdir(input.outDir, { recursive: true })
  const out: ExplainedRequest[] = []
  for (const [i, r] of requests.entries()) {
    const res = results[i]
    // Gradient maps are not in [0, 1]; scale them by their maximum for the pictures only (the NPY keeps raw values).
    const map = upsampledMap(res)
    const peak = params.method === 'grid' || params.method === 'context' ? 1 : Math.max(1e-12, ...map)
    const shown = map.map((v) => v / peak)
    const files = {
      maskPng: join(input.outDir, `${r.name}.${params.method}.mask.png`),
      maskNpy: join(input.outDir, `${r.name}.${params.method}.mask.npy`),
      overlayPng: join(input.outDir, `${r.name}.${params.method}.overlay.png`),
      summaryJson: join(input.outDir, `${r.name}.${params.method}.json`)
    }
    const gray = Buffer.from(shown.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255)))
    await sharp(gray, { raw: { width, height, channels: 1 } }).png().toFile(files.maskPng)
    await writeFile(files.maskNpy, encodeNpy(res.mask, [res.maskHeight, res.maskWidth]))
    const overlay = renderOverlay({ width, height, image: image.rgb, saliency: shown, request: r.mask })
    await sharp(Buffer.from(overlay), { raw: { width, height, channels: 3 } }).png().toFile(files.overlayPng)
    const { mask, upsampled, ...numbers } = res
    const summary = { ...numbers, classId: input.classId, maskValues: Array.from(mask) }
    await writeFile(files.summaryJson, JSON.stringify({ image: input.imagePath, request: r.name, area: r.area, bbox: r.bbox, ...summary }, null, 2))
    void upsampled
    out.push({ name: r.name, area: r.area, bbox: r.bbox, files, summary })
  }
  return out
}
