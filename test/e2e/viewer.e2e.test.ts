import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ViewerProject } from './fixtures/viewerProject'
import { callApi, launchBrowser, screenshot, screenshotDir, startServer, type ServerProcess } from './harness'
import { BookmarksPage } from './pages/BookmarksPage'
import { DatasetsPage } from './pages/DatasetsPage'
import { ImagePage } from './pages/ImagePage'
import { ShellPage } from './pages/ShellPage'

/**
 * The auditor's path in Chromium over browser mode, on a project the test builds: street scenes, an untrained
 * U-Net, stored predictions that call persons riders on one image. Browse, filter the person → rider errors, open
 * the image, pick the misclassified segment, run context saliency, see red on the canvas, bookmark it with a note,
 * find it in the bookmarks list.
 */
const root = join(import.meta.dirname, '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'ctxlens-e2e-viewer-'))
let fixture: ViewerProject
let server: ServerProcess
let browser: Browser
let page: Page

beforeAll(async () => {
  // The fixture uses main-side code (generator, importer, model zoo), so it runs under tsx with the app's paths.
  const built = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), ['--tsconfig', 'tsconfig.node.json', 'test/e2e/fixtures/viewerProject.ts', dir], {
    cwd: root,
    encoding: 'utf8'
  })
  if (built.status !== 0) throw new Error(`fixture failed: ${built.stderr}`)
  fixture = JSON.parse(built.stdout.trim().split('\n').at(-1)!) as ViewerProject
  server = await startServer(['--project', fixture.projectPath])
  browser = await launchBrowser()
  page = await browser.newPage({ colorScheme: 'light', viewport: { width: 1400, height: 900 } })
  await new ShellPage(page).open(server.url)
})
afterAll(async () => {
  await browser?.close()
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('auditing an image in Chromium', () => {
  it('browses the dataset and filters the person → rider errors, with the filter kept in the URL', async () => {
    const datasets = new DatasetsPage(page)
    await datasets.open()
    await expect.poll(() => datasets.count.textContent()).toContain('5 images')
    await expect.poll(() => datasets.tiles.count()).toBe(5)
    // Thumbnails arrive as data URLs once the tiles are in view.
    await expect.poll(() => datasets.tiles.first().locator('img').getAttribute('src')).toMatch(/^data:image\/webp/)
    await screenshot(page, '10-dataset-browser')

    await datasets.filterErrors('person', 'rider')
    await expect.poll(() => datasets.count.textContent()).toContain('1 image with person predicted as rider')
    expect(page.url()).toContain('error=6-7')
    // Reopening the address gives the same view.
    await page.reload()
    await expect.poll(() => datasets.count.textContent()).toContain('1 image with person predicted as rider')
    await expect.poll(() => datasets.tiles.count()).toBe(1)
    await screenshot(page, '11-dataset-errors-filter')
    // One side "any" filters too: every person the model got wrong, whatever it called them.
    await page.getByTestId('filter-error-pred').selectOption({ label: 'any' })
    await expect.poll(() => page.url()).toContain('error=6-any')
    await expect.poll(() => datasets.count.textContent()).toContain('1 image with person predicted as another class')
    await expect.poll(() => datasets.tiles.count()).toBe(1)
  })

  it('opens the image, names the classes under the cursor and picks the misclassified segment', async () => {
    await new DatasetsPage(page).openImage(0)
    const image = new ImagePage(page, 128)
    await image.canvas.waitFor()
    await image.hoverPixel(fixture.pick.x, fixture.pick.y)
    await expect.poll(() => image.hoverInfo.textContent()).toMatch(/ground truth: person.*prediction: rider/)
    await image.pickSegmentAt(fixture.pick.x, fixture.pick.y)
    await expect.poll(() => page.getByTestId('request-info').textContent()).toContain(`1 segment, ${fixture.pick.area} px`)
    expect(await page.getByTestId('request-class').inputValue()).toBe('7')
    await screenshot(page, '12-image-segment-picked')
  })

  it('runs context saliency and shows the heatmap in red with the request outlined in blue', async () => {
    const image = new ImagePage(page, 128)
    await image.setOverlays({ gt: false, pred: false })
    const before = await image.canvasPixels()
    await image.runExplanation('context', { steps: 5 })
    await expect.poll(() => page.getByTestId('explanations').textContent()).toContain('Context saliency of rider')
    const after = await image.canvasPixels(join(screenshotDir, '13-canvas-saliency.png'))
    await screenshot(page, '14-image-saliency')
    // Five steps from the initial 0.5 leave the mask near 0.4 everywhere outside the request: the context turns red.
    expect(before.red / before.total).toBeLessThan(0.05)
    expect(after.red / after.total).toBeGreaterThan(0.3)
    expect(after.blue).toBeGreaterThan(20)
    // The request is still outlined, so the Request panel still describes it; the heatmap has its colour scale.
    await expect.poll(() => page.getByTestId('request-info').textContent()).toMatch(new RegExp(`Explanation #\\d+ of rider: segment #\\d+, ${fixture.pick.area} px`))
    expect(await page.getByTestId('saliency-scale').textContent()).toMatch(/0.*1.*needed to keep the prediction/)
    // Hiding the saliency layer removes the red again: the red is the overlay, not the image.
    await page.getByTestId('toggle-saliency').setChecked(false)
    const hidden = await image.canvasPixels()
    expect(hidden.red / hidden.total).toBeLessThan(0.05)
    await page.getByTestId('toggle-saliency').setChecked(true)
  })

  it('shows the explanation\'s own checks: recovery with its preservation loss, deletion faithfulness and its curves', async () => {
    expect(await page.getByTestId('recovery').textContent()).toMatch(/(Recovered|Not recovered): preservation loss \d\.\d{4}/)
    expect(await page.getByTestId('faithfulness').textContent()).toMatch(/Deletion faithfulness -?\d\.\d\d · AUC \d\.\d\d salient-first vs \d\.\d\d random \(3 orders, \d+ context cells\)/)
    expect(await page.getByTestId('curve-salient').getAttribute('points')).toMatch(/^([\d.]+,[\d.]+ ){8}[\d.]+,[\d.]+$/)
    expect(await page.getByTestId('explanations').textContent()).toMatch(/faithfulness -?\d\.\d\d/)
  })

  it('shows the perturbed image the optimiser settled on and the prediction on it', async () => {
    await page.getByTestId('show-perturbed').click()
    const perturbed = page.getByTestId('perturbed')
    await expect.poll(() => perturbed.locator('img').count()).toBe(2)
    expect(await perturbed.locator('img').first().getAttribute('src')).toMatch(/^data:image\/png/)
  })

  it('opens a report alert\'s example on its explanation: heatmap shown, request outlined, nothing to clear first', async () => {
    const [explanation] = await callApi<{ id: number }[]>(server, 'explanations:list', { imageId: fixture.errorImageId })
    // The link a bias alert's example carries (BiasAlerts: imageLink with the segment and its explanation).
    await page.goto(`${server.origin}/#/image?id=${fixture.errorImageId}&model=${fixture.modelId}&segment=${fixture.pick.segmentId}&explanation=${explanation.id}`)
    const image = new ImagePage(page, 128)
    await image.canvas.waitFor()
    await expect.poll(() => page.getByTestId('request-info').textContent()).toContain(`Explanation #${explanation.id} of rider`)
    await image.setOverlays({ gt: false, pred: false })
    const shown = await image.canvasPixels()
    expect(shown.red / shown.total).toBeGreaterThan(0.3)
    expect(shown.blue).toBeGreaterThan(20)
    expect(await page.getByTestId('clear-request').isDisabled()).toBe(true)
    await screenshot(page, '15a-alert-example')
  })

  it('bookmarks the explanation with tags and a note and lists it among the bookmarks', async () => {
    const image = new ImagePage(page, 128)
    await image.bookmarkExplanation('rider needs the road', 'bias, rider', 'Context saliency spreads over the road, not the bicycle.')
    await screenshot(page, '15-bookmarked')
    const bookmarks = new BookmarksPage(page)
    await bookmarks.open()
    await expect.poll(() => bookmarks.rows.count()).toBe(1)
    const row = bookmarks.rows.first()
    // Named by file and place, never by database id; its thumbnails show the saliency in red, the request in blue.
    expect(await row.textContent()).toMatch(/rider needs the road.*bias.*rider.*\d+\.png \((train|val)\) · [^·]*at \(\d+, \d+\), \d+ px[^·]* · context explanation of rider.*spreads over the road/)
    expect(await row.textContent()).not.toMatch(/#\d+/)
    await expect.poll(async () => (await bookmarks.thumbnailPixels(row, 'saliency')).red).toBeGreaterThan(0)
    expect((await bookmarks.thumbnailPixels(row, 'image')).blue).toBeGreaterThan(0)
    await screenshot(page, '16-bookmarks')
    // The bookmark makes its image match the bookmarked filter in the browser.
    await page.goto(server.origin + '/#/datasets?bookmarked=1')
    await expect.poll(() => new DatasetsPage(page).count.textContent()).toContain('1 image')
  })

  it('draws a request with the brush, explains it with another method and compares both side by side', async () => {
    await page.goto(`${server.origin}/#/image?id=${fixture.errorImageId}`)
    const image = new ImagePage(page, 128)
    await image.canvas.waitFor()
    await image.useTool('brush')
    await image.drag([60, 20], [80, 20])
    const drawn = Number((await page.getByTestId('request-info').textContent())!.match(/Drawn mask, (\d+) px/)![1])
    // A 21 px long stroke with the default radius 3 covers a band about 7 px high.
    expect(drawn).toBeGreaterThan(100)
    expect(drawn).toBeLessThan(220)
    await image.useTool('eraser')
    await image.drag([60, 20], [66, 20])
    const erased = Number((await page.getByTestId('request-info').textContent())!.match(/Drawn mask, (\d+) px/)![1])
    expect(erased).toBeLessThan(drawn)
    await page.getByTestId('request-class').selectOption({ label: 'building' })
    await image.runExplanation('vg', {})
    await expect.poll(() => page.getByTestId('explanations').textContent()).toContain('Vanilla gradient of building')
    await page.getByTestId('compare-select').selectOption({ index: 1 })
    await page.getByTestId('compare-left').waitFor()
    await page.getByTestId('compare-right').waitFor()
    // The zoom reads screen pixels per image pixel: the 128-pixel-wide image fitted to the canvas is an upscale.
    const fitted = Math.round(((await image.canvas.boundingBox())!.width / 128) * 100)
    expect(fitted).toBeGreaterThan(300)
    await expect.poll(() => page.getByTestId('zoom-level').first().textContent()).toBe(`${fitted}%`)
    // Zoom with the keyboard on the focused canvas.
    await page.getByTestId('image-canvas').focus()
    await page.keyboard.press('+')
    await expect.poll(() => page.getByTestId('zoom-level').first().textContent()).toBe(`${Math.round(fitted * 1.25)}%`)
    await page.keyboard.press('0')
    await screenshot(page, '17-compare')
    await page.keyboard.press('?')
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' })
    await expect.poll(() => help.textContent()).toContain('Pick segments (shift-click adds)')
    await page.keyboard.press('Escape')
  })

  it('draws a polygon request, shows the progress of the run and cancels it without storing anything', async () => {
    const image = new ImagePage(page, 128)
    await image.useTool('polygon')
    // Esc clears whatever request is left from before (the Clear button is disabled when there is none).
    await page.keyboard.press('Escape')
    for (const [x, y] of [[10, 10], [30, 10], [30, 30], [10, 30]] as [number, number][]) await image.pickSegmentAt(x, y)
    await page.keyboard.press('Enter')
    // Corners at pixel centres 10.5…30.5: the 20×20 pixels whose centres lie inside.
    await expect.poll(() => page.getByTestId('request-info').textContent()).toContain('Drawn mask, 400 px')
    const before = await page.getByTestId('explanations').locator('li').count()
    await page.getByTestId('method').selectOption('context')
    await page.getByTestId('param-steps').fill('20000')
    await page.getByTestId('run').click()
    const progress = page.getByTestId('progress')
    await expect.poll(async () => Number((await progress.textContent())?.match(/(\d+) \/ 20000/)?.[1] ?? 0), { timeout: 60_000 }).toBeGreaterThan(0)
    await screenshot(page, '19-running')
    await page.getByTestId('cancel').click()
    await progress.waitFor({ state: 'detached' })
    await expect.poll(() => page.getByTestId('run-status').textContent()).toContain('Cancelled')
    expect(await page.getByTestId('explanations').locator('li').count()).toBe(before)
  })

  it('follows the dark preference in the image view', async () => {
    const dark = await browser.newPage({ colorScheme: 'dark', viewport: { width: 1400, height: 900 } })
    await new ShellPage(dark).open(server.url)
    await dark.goto(`${server.origin}/#/image?id=${fixture.errorImageId}`)
    await dark.getByTestId('image-view').waitFor()
    expect(await dark.evaluate("getComputedStyle(document.querySelector('.panel')).backgroundColor")).toBe('rgb(29, 33, 40)')
    await screenshot(dark, '18-image-dark')
    await dark.close()
  })
})
