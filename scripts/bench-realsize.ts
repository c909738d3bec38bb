/**
 * The app's costs on real-size images (issue 17; BENCHMARKS.md "Real-size images"), through the services the
 * screens call, on a project that holds an imported set (scripts/make-realsize-set.ts, then ctxlens import):
 *   - thumbnail: decode + resize + WebP of one image, as the import makes it (ms per image),
 *   - images:thumbnails for a page of the grid, served from the cache (ms per page),
 *   - images:get, the image view's one request (ms, and the bytes it sends),
 *   - the project file's size per 1,000 images,
 *   - a prediction's label map as the store keeps it (the ground truth stands in for a model's answer).
 *
 *   CTXLENS_HOME=... npx tsx --tsconfig tsconfig.node.json scripts/bench-realsize.ts --project P.ctxlens [--reps 10]
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { stringifyWire } from '../src/common/wire'
import { CliSession } from '../src/main/cli/session'
import { datasetSource, loadLabelMap } from '../src/main/datasets/import'
import { decodePlane, encodePlane } from '../src/main/store/planeCodec'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}
const projectPath = arg('project', '')
const reps = Number(arg('reps', '10'))
if (!projectPath) {
  console.error('usage: scripts/bench-realsize.ts --project P.ctxlens [--reps 10]')
  process.exit(2)
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now()
  const r = await f()
  return [performance.now() - t, r]
}

const session = new CliSession()
await session.openProject(projectPath)
const project = session.ctx.requireProject()
const page = await session.call('images:list', { limit: 60 })
const total = page.total
const ids = page.items.map((i) => i.id)
const first = project.datasets.image(ids[0])!
const root = datasetSource(project, first.datasetId).root

const thumbMs: number[] = []
for (const id of ids.slice(0, reps)) {
  const image = project.datasets.image(id)!
  const [ms] = await timed(() => sharp(join(root, image.path)).resize({ width: 128, height: 128, fit: 'inside' }).webp().toBuffer())
  thumbMs.push(ms)
}

const pageMs: number[] = []
for (let r = 0; r < 3; r++) pageMs.push((await timed(() => session.call('images:thumbnails', { ids })))[0])

const getMs: number[] = []
let sent = 0
for (const id of ids.slice(0, reps)) {
  const [ms, view] = await timed(() => session.call('images:get', { imageId: id }))
  getMs.push(ms)
  // What browser mode sends: typed arrays go through the wire codec (plain JSON.stringify would spell them out).
  sent = stringifyWire(view).length
}

const planeBytes: number[] = []
const planeMs: number[] = []
const unpackMs: number[] = []
for (const id of ids.slice(0, reps)) {
  const labels = new Uint16Array((await loadLabelMap(project, id)).data)
  const [ms, stored] = await timed(async () => encodePlane(labels))
  planeMs.push(ms)
  planeBytes.push(stored.length)
  unpackMs.push((await timed(async () => decodePlane(stored)))[0])
}

const bytes = statSync(projectPath).size
console.log(JSON.stringify({
  images: total,
  size: `${first.width}×${first.height}`,
  thumbnailMsPerImage: Math.round(median(thumbMs)),
  thumbnailsPageOf60Ms: Math.round(median(pageMs)),
  imagesGetMs: Math.round(median(getMs)),
  imagesGetMsMax: Math.round(Math.max(...getMs)),
  imagesGetBytes: sent,
  labelPlaneRawBytes: first.width * first.height * 2,
  labelPlaneStoredBytes: median(planeBytes),
  labelPlaneEncodeMs: Math.round(median(planeMs)),
  labelPlaneDecodeMs: Math.round(median(unpackMs)),
  projectBytes: bytes,
  projectMBPer1000: +((bytes / total) * 1000 / 1e6).toFixed(2)
}, null, 2))
session.dispose()
