/**
 * A street-scene set at Cityscapes' size (2048×1024), for measuring the app on real-size images (issue 17,
 * BENCHMARKS.md "Real-size images"). The demo's generator draws at any size up to 1024×2048, with figures sized
 * relative to the height, so these are the demo's scenes drawn with more detail, not an upscaled copy.
 *
 *   npx tsx scripts/make-realsize-set.ts --out /work/realsize-data --count 2000 [--seed 0]
 *
 * Writes the folder layout `ctxlens import --root` reads (all images in the train split). Keep the output out of
 * the repository: 2,000 images are about 1.5 GB.
 */
import { writeStreetScenes } from '../src/main/datasets/streetScenes'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}
const outDir = arg('out', '')
if (!outDir) {
  console.error('usage: npx tsx scripts/make-realsize-set.ts --out DIR [--count 2000] [--seed 0]')
  process.exit(2)
}
const count = Number(arg('count', '2000'))
const seed = Number(arg('seed', '0'))

const started = performance.now()
let last = 0
const summary = await writeStreetScenes(
  { outDir, width: 2048, height: 1024, seed, counts: { train: count, val: 0, test: 0 } },
  {
    onProgress: ({ done, total }) => {
      const now = performance.now()
      if (now - last < 5000 && done !== total) return
      last = now
      const s = (now - started) / 1000
      console.log(`${done}/${total} images, ${s.toFixed(0)} s, ${((s * 1000) / done).toFixed(0)} ms per image`)
    }
  }
)
console.log(`wrote ${summary.counts.train} images to ${summary.outDir} in ${(summary.durationMs / 1000).toFixed(1)} s`)
