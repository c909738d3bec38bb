/**
 * The screens on real-size images in Chromium over browser mode (issue 17; BENCHMARKS.md "Real-size images"), on a
 * project holding an imported set (scripts/make-realsize-set.ts, then ctxlens import). Needs the built app (npm run
 * build) and Chromium (/usr/bin/chromium):
 *   - image view open: from clicking a tile in the dataset grid to the image painted on the canvas (ms),
 *   - grid scroll: the grid scrolled through in steps; the longest main-thread task and the frames over 50 ms.
 *
 *   CTXLENS_HOME=... npx tsx --tsconfig tsconfig.node.json scripts/bench-realsize-browser.ts --project P.ctxlens [--opens 5]
 */
import { launchBrowser, startServer } from '../test/e2e/harness'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}
const projectPath = arg('project', '')
const opens = Number(arg('opens', '5'))
if (!projectPath) {
  console.error('usage: scripts/bench-realsize-browser.ts --project P.ctxlens [--opens 5]')
  process.exit(2)
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const server = await startServer(['--project', projectPath])
const browser = await launchBrowser()
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
  await page.goto(server.url)
  await page.getByTestId('backend').waitFor()
  // Main-thread tasks over 50 ms, the browser's own measure of a stall. (Strings: the scripts compile without DOM types.)
  await page.evaluate(`window.longTasks = []; new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longTasks.push(e.duration) }).observe({ type: 'longtask' })`)
  const longTasks = async (): Promise<number[]> => page.evaluate<number[]>('window.longTasks.splice(0)')

  const openMs: number[] = []
  const openLongest: number[] = []
  for (let k = 0; k < opens; k++) {
    await page.getByTestId('nav-datasets').click()
    const tiles = page.getByTestId('image-tile')
    await tiles.nth(k).waitFor()
    await longTasks()
    const started = Date.now()
    await tiles.nth(k).click()
    await page.getByTestId('zoom-level').waitFor()
    // Painted: Fabric renders on the next animation frame after its layers are added.
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))')
    openMs.push(Date.now() - started)
    openLongest.push(Math.max(0, ...(await longTasks())))
  }
  const zoom = await page.getByTestId('zoom-level').textContent()
  const shown = await page.getByTestId('image-canvas').locator('canvas.lower-canvas').boundingBox()

  await page.getByTestId('nav-datasets').click()
  const grid = page.getByTestId('image-grid')
  await grid.waitFor()
  await page.getByTestId('image-tile').first().waitFor()
  await longTasks()
  const scrollStarted = Date.now()
  // Scrolled a screenful per frame: the gaps between frames are what a user scrolling fast would see.
  const frames = await page.evaluate<number[]>(`(async () => {
    const el = document.querySelector('[data-testid=image-grid]')
    const gaps = []
    let last = performance.now()
    for (let y = 0; y < el.scrollHeight; y += 400) {
      el.scrollTop = y
      await new Promise((r) => requestAnimationFrame(r))
      const now = performance.now()
      gaps.push(now - last)
      last = now
    }
    return gaps
  })()`)
  const scrollMs = Date.now() - scrollStarted
  // Thumbnails of the last screen arrive once scrolling pauses.
  await page.waitForTimeout(500)
  const tasks = await longTasks()
  console.log(
    JSON.stringify(
      {
        imageViewOpenMs: openMs,
        imageViewOpenMedianMs: median(openMs),
        imageViewLongestTaskMs: Math.round(Math.max(...openLongest)),
        zoomLabel: zoom,
        canvasCssWidth: shown?.width,
        gridScrollSteps: frames.length,
        gridScrollMs: scrollMs,
        gridFramesOver50ms: frames.filter((f) => f > 50).length,
        gridLongestFrameMs: Math.round(Math.max(...frames)),
        gridLongTasksMs: tasks.map(Math.round)
      },
      null,
      2
    )
  )
} finally {
  await browser.close()
  await server.stop()
}
