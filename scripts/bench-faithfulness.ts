/**
 * What the deletion check (src/main/saliency/faithfulness.ts) adds to an explanation on the demo model, and the
 * figure it gives each method, in process on the app's backend:
 *
 *   npx tsx scripts/bench-faithfulness.ts [--model resources/demo-model] [--requests 16] [--methods context,grid,vg,ig,sg]
 *                                         [--steps 80] [--ig-steps 50] [--sg-samples 50]
 *
 * Requests are the riders and persons of the demo's test split (GT instance ∩ the model's prediction of that
 * class, at least 12 px), explained as the app's demo audit does: the Cityscapes preset (16×32 mask), batches of
 * up to 16. Per method: seconds per explanation without the check, what the check adds per explanation (its own
 * timer, one batched predict), and the mean faithfulness with its n.
 */
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { faithfulnessParams, type SaliencyMethod, saliencyParams } from '@common/saliency'
import { STREET_CLASS, type StreetScenesSpecInput } from '@common/streetScenes'
import { generateStreetSceneArrays, parseStreetScenesSpec } from '@main/datasets/streetScenes'
import { initBackend } from '@main/engine/backend'
import { openSegmentationModel } from '@main/engine/openModel'
import { predictLabelMaps } from '@main/engine/segmentationModel'
import { computeSaliency, type SaliencyRequest } from '@main/saliency'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}
const modelDir = resolve(arg('model', 'resources/demo-model'))
const count = Number(arg('requests', '16'))
const methods = arg('methods', 'context,grid,vg,ig,sg').split(',') as SaliencyMethod[]
const steps = Number(arg('steps', '80'))
const igSteps = Number(arg('ig-steps', '50'))
const sgSamples = Number(arg('sg-samples', '50'))

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN)
const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)))

async function main(): Promise<void> {
  const info = await initBackend()
  const model = await openSegmentationModel(modelDir)
  const sidecar = JSON.parse(await readFile(join(modelDir, 'ctxlens.model.json'), 'utf8')) as { training?: { datasetSpec?: StreetScenesSpecInput } }
  const spec = parseStreetScenesSpec(sidecar.training?.datasetSpec ?? {})
  const test = await generateStreetSceneArrays(spec, 'test')
  const { height: H, width: W } = test
  const px = H * W
  const channelOf = (id: number) => model.classIds.indexOf(id)

  const requests: SaliencyRequest[] = []
  for (let i = 0; i < test.count && requests.length < count; i++) {
    const image = test.images.subarray(i * px * 3, (i + 1) * px * 3)
    const pred = await predictLabelMaps(model, image, [1, H, W, 3])
    for (const o of test.meta[i].objects) {
      if (o.kind !== 'rider' && o.kind !== 'person') continue
      const cls = STREET_CLASS[o.kind]
      const mask = new Uint8Array(px)
      let area = 0
      for (let p = 0; p < px; p++) if (test.instances[i * px + p] === o.instance && pred[p] === cls) (mask[p] = 1), area++
      if (area < 12 || requests.length >= count) continue
      requests.push({ id: `${i}:${o.instance}`, image: { data: Float32Array.from(image), height: H, width: W, channels: 3 }, request: mask, classId: channelOf(cls) })
    }
  }
  console.log(`${model.runtime} on ${info.name}; ${requests.length} rider/person requests on ${H}×${W} test images; Cityscapes preset`)
  console.log('method   explain s/req   check s/req   images   faithfulness mean ± sd (n)   min   > 0   AUC salient / random')
  for (const method of methods) {
    const over = method === 'grid' || method === 'context' ? { steps } : method === 'ig' ? { steps: igSteps } : method === 'sg' ? { samples: sgSamples } : {}
    const params = saliencyParams(method, 'cityscapes', over)
    const t0 = performance.now()
    const results = await computeSaliency(model, requests, params, { maxBatch: 16, faithfulness: faithfulnessParams(params, 'cityscapes') })
    const wall = (performance.now() - t0) / requests.length / 1000
    const check = mean(results.map((r) => r.faithfulness!.timeMs)) / 1000
    const values = results.map((r) => r.faithfulness!.value).filter((v): v is number => v !== null)
    const aucS = mean(results.map((r) => r.faithfulness!.aucSalient ?? NaN))
    const aucR = mean(results.map((r) => r.faithfulness!.aucRandom ?? NaN))
    const images = mean(results.map((r) => r.faithfulness!.images))
    console.log(
      `${method.padEnd(8)} ${(wall - check).toFixed(2).padStart(13)} ${check.toFixed(2).padStart(13)} ${images.toFixed(1).padStart(8)}   ` +
        `${mean(values).toFixed(3)} ± ${sd(values).toFixed(3)} (${values.length})`.padEnd(29) +
        `${Math.min(...values).toFixed(2).padStart(5)} ${String(values.filter((v) => v > 0).length).padStart(5)}   ${aucS.toFixed(3)} / ${aucR.toFixed(3)}`
    )
  }
  model.dispose()
}

void main()
