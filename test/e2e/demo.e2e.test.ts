import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callApi, launchBrowser, screenshot, screenshotDir, startServer, type ServerProcess } from './harness'
import { BookmarksPage } from './pages/BookmarksPage'
import { DatasetsPage } from './pages/DatasetsPage'
import { ErrorCasesPage } from './pages/ErrorCasesPage'
import { ImagePage } from './pages/ImagePage'
import { ReportsPage } from './pages/ReportsPage'
import { ShellPage } from './pages/ShellPage'

/**
 * The whole auditor's path on the demo project, in Chromium over browser mode: the demo is built as `ctxlens demo`
 * builds it (procedural street scenes, the bundled trained model, real predictions and a small context audit),
 * only smaller, in a temporary app home. Open it, pick a rider in the image view, run context saliency and see
 * the red on the canvas, bookmark it with a note, click the rider → person cell of the error matrix and open one
 * of its segments, then open the Reports screen.
 */
const root = join(import.meta.dirname, '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'ctxlens-e2e-demo-'))
const home = join(dir, 'home')
const PERSON = 6
const RIDER = 7
/** The demo model's input: every demo image is this size. */
const WIDTH = 128

interface Demo { projectPath: string; datasetId: number; modelId: number }
interface PairSegment { id: number; imageId: number; path: string; area: number; bbox: [number, number, number, number] }
interface ImageSegment { id: number; area: number; bbox: [number, number, number, number]; cropMask: Uint8Array }

let demo: Demo
let server: ServerProcess
let browser: Browser
let page: Page
/** The rider the test picks: a pixel inside the largest correctly predicted rider, and what a click there selects. */
let rider: { imageId: number; path: string; x: number; y: number; pickedArea: number }

/**
 * A pixel of `target` near its box centre, and the area of the segment a click there picks (the image view picks
 * the smallest segment under the cursor, so nested segments stay reachable).
 */
function pixelIn(target: ImageSegment, all: ImageSegment[]): { x: number; y: number; pickedArea: number } {
  const covers = (s: ImageSegment, x: number, y: number) => {
    const [x0, y0, w, h] = s.bbox
    return x >= x0 && y >= y0 && x < x0 + w && y < y0 + h && s.cropMask[(y - y0) * w + (x - x0)] === 1
  }
  const [bx, by, bw, bh] = target.bbox
  let best = { x: -1, y: -1, d: Infinity }
  for (let y = by; y < by + bh; y++)
    for (let x = bx; x < bx + bw; x++) {
      const d = (x - bx - bw / 2) ** 2 + (y - by - bh / 2) ** 2
      if (d < best.d && covers(target, x, y)) best = { x, y, d }
    }
  const pickedArea = Math.min(...all.filter((s) => covers(s, best.x, best.y)).map((s) => s.area))
  return { x: best.x, y: best.y, pickedArea }
}

beforeAll(async () => {
  // 80 images keep a handful of rider → person errors for the trained model; 8 audited segments give the Reports
  // screen statistics to draw. Both take seconds.
  const built = spawnSync(process.execPath, [join(root, 'out', 'main', 'cli.js'), 'demo', '--images', '80', '--sample', '8', '--steps', '10', '--no-progress', '--json'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CTXLENS_HOME: home }
  })
  if (built.status !== 0) throw new Error(`ctxlens demo failed: ${built.stderr}`)
  demo = JSON.parse(built.stdout) as Demo
  server = await startServer(['--project', demo.projectPath], { CTXLENS_HOME: home })

  // The largest rider that the model got right, found the way the screens find it: through the services.
  const riders = await callApi<{ items: PairSegment[] }>(server, 'segments:byPair', { datasetId: demo.datasetId, modelId: demo.modelId, gt: RIDER, pred: RIDER, limit: 1 })
  const target = riders.items[0]
  if (!target) throw new Error('the demo has no correctly predicted rider')
  const view = await callApi<{ segments: ImageSegment[] }>(server, 'images:get', { imageId: target.imageId, modelId: demo.modelId })
  rider = { imageId: target.imageId, path: target.path, ...pixelIn(view.segments.find((s) => s.id === target.id)!, view.segments) }

  browser = await launchBrowser()
  page = await browser.newPage({ colorScheme: 'light', viewport: { width: 1400, height: 900 } })
  await new ShellPage(page).open(server.url)
})
afterAll(async () => {
  await browser?.close()
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('the demo project, end to end in Chromium', () => {
  it('opens the demo project and finds the rider image by its file name', async () => {
    await expect.poll(() => new ShellPage(page).projectName.textContent()).toBe('Demo')
    const datasets = new DatasetsPage(page)
    await datasets.open()
    await expect.poll(() => datasets.count.textContent()).toContain('80 images')
    await expect.poll(() => datasets.tiles.first().locator('img').getAttribute('src')).toMatch(/^data:image\/webp/)
    await screenshot(page, '20-demo-datasets')
    const name = rider.path.split('/').pop()!
    await page.getByTestId('filter-search').fill(name)
    await page.getByTestId('filter-search').press('Enter')
    await expect.poll(() => datasets.count.textContent()).toContain('1 image')
    await datasets.openImage(0)
    expect(await page.locator('.title h2').textContent()).toBe(rider.path)
  })

  it('picks a rider, runs context saliency and shows the heatmap in red on the canvas', async () => {
    const image = new ImagePage(page, WIDTH)
    await image.canvas.waitFor()
    await image.hoverPixel(rider.x, rider.y)
    await expect.poll(() => image.hoverInfo.textContent()).toMatch(/ground truth: rider.*prediction: rider/)
    await image.pickSegmentAt(rider.x, rider.y)
    await expect.poll(() => page.getByTestId('request-info').textContent()).toContain(`1 segment, ${rider.pickedArea} px`)
    expect(await page.getByTestId('request-class').inputValue()).toBe(String(RIDER))
    await screenshot(page, '21-demo-rider-picked')

    // The prediction overlay paints riders red too: switch the label overlays off so red can only be saliency.
    await image.setOverlays({ gt: false, pred: false })
    const before = await image.canvasPixels()
    await image.runExplanation('context', { steps: 30 })
    await expect.poll(() => page.getByTestId('explanations').textContent()).toContain('Context saliency of rider')
    const after = await image.canvasPixels(join(screenshotDir, '22-demo-canvas-saliency.png'))
    await screenshot(page, '23-demo-saliency')
    // The street scene has little strong red of its own (a red car at most); the heatmap (the Cityscapes preset's
    // 16×32 mask, as the demo's audit uses) adds red around the rider's bicycle: about 6 % of the canvas here.
    expect(before.red / before.total).toBeLessThan(0.1)
    expect((after.red - before.red) / after.total).toBeGreaterThan(0.03)
    expect(after.blue).toBeGreaterThan(10)
    // Hiding the saliency layer takes the red away again: it was the overlay, not the image.
    await page.getByTestId('toggle-saliency').setChecked(false)
    const hidden = await image.canvasPixels()
    expect(Math.abs(hidden.red - before.red) / hidden.total).toBeLessThan(0.01)
    await page.getByTestId('toggle-saliency').setChecked(true)

    // "Use its settings" puts the shown explanation's parameters into the form: the preset's λ, the typed steps.
    expect(await page.getByTestId('param-lambda').inputValue()).toBe('')
    await page.getByTestId('use-settings').click()
    expect(await page.getByTestId('param-lambda').inputValue()).toBe('0.01')
    expect(await page.getByTestId('param-steps').inputValue()).toBe('30')
    await expect.poll(() => page.getByTestId('settings-note').textContent()).toMatch(/^Settings of #\d+ in the form\.$/)
  })

  it('bookmarks the explanation with a note and finds it among the bookmarks', async () => {
    const image = new ImagePage(page, WIDTH)
    await image.bookmarkExplanation('rider context', 'demo, rider', 'The model looks at the bicycle under the rider.')
    await screenshot(page, '24-demo-bookmarked', { wholeScreen: true })
    const bookmarks = new BookmarksPage(page)
    await bookmarks.open()
    await expect.poll(() => bookmarks.rows.count()).toBe(1)
    expect(await bookmarks.rows.first().textContent()).toMatch(/rider context.*demo.*rider.*\.png( \(\w+\))? · .*context explanation of .*bicycle under the rider/)
  })

  it('filters the rider → person errors in the matrix and opens one of them in the image view', async () => {
    const errors = new ErrorCasesPage(page)
    await errors.open()
    expect(await errors.matrix.locator('th.row-head').allTextContents()).toEqual(expect.arrayContaining(['rider', 'person']))
    const pixels = Number((await errors.cell(RIDER, PERSON).getAttribute('title'))!.match(/: (\d+) pixels/)![1])
    expect(pixels).toBeGreaterThan(0)
    await screenshot(page, '25-demo-errors-pixels')

    await errors.countIn('segments')
    await errors.pickCell(RIDER, PERSON)
    expect(page.url()).toMatch(/unit=segments/)
    expect(page.url()).toMatch(/cell=7-6/)
    const count = Number(await errors.cell(RIDER, PERSON).textContent())
    expect(await errors.rows.count()).toBe(Math.min(count, 50))
    const areas = await errors.areas()
    expect(areas).toEqual([...areas].sort((a, b) => b - a))
    await expect.poll(() => page.getByTestId('cell-title').textContent()).toMatch(/rider\s*→\s*person/)
    await screenshot(page, '26-demo-errors-rider-person')

    // Reopening the address gives the same view.
    await page.reload()
    await errors.rows.first().waitFor()
    expect(await errors.areas()).toEqual(areas)

    // Fragments of a pixel or two along a rider's outline are label noise: leave them out (keeping the largest).
    const min = Math.min(4, areas[0])
    await errors.setMinArea(min)
    await expect.poll(() => errors.areas()).toEqual(areas.filter((a) => a >= min))
    expect(page.url()).toMatch(new RegExp(`min=${min}`))
    expect(Number(await errors.cell(RIDER, PERSON).textContent())).toBe(areas.filter((a) => a >= min).length)

    const row = errors.rows.first()
    const path = await row.getByTestId('open-segment').textContent()
    await errors.openSegment(0)
    expect(page.url()).toMatch(/#\/image\?id=\d+&model=\d+&segment=\d+/)
    expect(await page.locator('.title h2').textContent()).toBe(path)
    // The segment arrives picked as the request, with its ground-truth-vs-prediction pair under it.
    await expect.poll(() => page.getByTestId('request-info').textContent()).toContain(`1 segment, ${areas[0]} px`)
    expect(await page.getByTestId('request-class').inputValue()).toBe(String(PERSON))
    expect(await page.getByTestId('request-pair').textContent()).toContain('rider → person (misclassified)')
    // A segment of a few pixels opens zoomed in on it; `0` fits the image again and the button zooms back.
    // The label reads screen pixels per image pixel, so the fitted view of the small demo image is an upscale too.
    const zoomLevel = async () => Number((await page.getByTestId('zoom-level').first().textContent())!.match(/(\d+)%/)![1])
    const fitted = Math.round(((await new ImagePage(page, WIDTH).canvas.boundingBox())!.width / WIDTH) * 100)
    await expect.poll(zoomLevel).toBeGreaterThan(fitted)
    await screenshot(page, '27-demo-error-opened')
    await page.getByTestId('image-canvas').focus()
    await page.keyboard.press('0')
    await expect.poll(zoomLevel).toBe(fitted)
    await page.getByTestId('zoom-request').click()
    await expect.poll(zoomLevel).toBeGreaterThan(fitted)
  })

  it('reads in the dark theme too', async () => {
    const dark = await browser.newPage({ colorScheme: 'dark', viewport: { width: 1400, height: 900 } })
    await new ShellPage(dark).open(server.url)
    // Through the screen's own controls: the address alone reopening the same view is the previous test's check. A
    // fresh page loaded straight at the address once showed no rows within 30 s on a CI run (not reproduced in
    // four runs since); this test is about the dark theme's colours, so it takes the path a user clicks.
    const errors = new ErrorCasesPage(dark)
    await errors.open()
    await errors.countIn('segments')
    await errors.pickCell(RIDER, PERSON)
    await errors.rows.first().waitFor()
    // Cell text stays readable on its shade: dark text on light shades, white on strong ones.
    const color = await dark.evaluate(`getComputedStyle(document.querySelector('[data-testid="cell-${RIDER}-${RIDER}"]')).color`)
    expect(color).toMatch(/rgb\((255, 255, 255|230, 233, 239)\)/)
    await screenshot(dark, '29-demo-errors-dark')
    await dark.close()
  })

  it('opens the Reports screen with its charts drawn', async () => {
    const reports = new ReportsPage(page)
    await reports.open()
    expect(await reports.renderedCharts.count()).toBeGreaterThan(0)
    await screenshot(page, '28-demo-reports', { wholeScreen: true })

    // Browser mode downloads the PDF: its bytes come through the wire codec and leave as a file.
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.getByTestId('export-pdf').click()])
    expect(download.suggestedFilename()).toMatch(/^Demo-job\d+-context-report-\d{4}-\d\d-\d\d\.pdf$/)
    const saved = join(dir, 'downloaded.pdf')
    await download.saveAs(saved)
    expect(readFileSync(saved).subarray(0, 5).toString('latin1')).toBe('%PDF-')
    await expect.poll(() => page.getByTestId('export-status').textContent()).toMatch(/^Downloaded Demo-job\d+.*\(\d+ pages\)$/)
  })
})
