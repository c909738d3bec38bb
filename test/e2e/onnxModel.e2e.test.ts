import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STREET_SCENE_CLASSES } from '../../src/common/streetScenes'
import { callApi, launchBrowser, screenshot, screenshotDir, startServer, type ServerProcess } from './harness'
import { DatasetsPage } from './pages/DatasetsPage'
import { ImagePage } from './pages/ImagePage'
import { ModelsPage } from './pages/ModelsPage'
import { ShellPage } from './pages/ShellPage'

/**
 * A new user's first explanation with their own model, in Chromium over browser mode: a bare ONNX export (the
 * demo street-scene U-Net, NHWC, probabilities, with no description beside it), a class list written from the
 * label spec, and a folder of street scenes. Add the model through the dialog, predict the dataset, pick a
 * segment in the image view and run context saliency on ONNX Runtime. No file is written by hand: the
 * description beside the export is the app's, with the export's hash.
 */
const root = join(import.meta.dirname, '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'ctxlens-e2e-onnx-'))
const exportDir = join(dir, 'export')
const modelFile = join(exportDir, 'street-unet.onnx')
const classesFile = join(dir, 'street-classes.json')
const scenes = join(dir, 'scenes')
let server: ServerProcess
let browser: Browser
let page: Page
let modelId: number
let datasetId: number

interface ModelRow {
  id: number
  name: string
  runtime: string | null
}
interface Segment {
  id: number
  kind: string
  predClass: number | null
  area: number
  bbox: [number, number, number, number]
  cropMask: Uint8Array
}

beforeAll(async () => {
  mkdirSync(exportDir)
  copyFileSync(join(root, 'resources', 'demo-model', 'model.onnx'), modelFile)
  writeFileSync(classesFile, JSON.stringify(STREET_SCENE_CLASSES, null, 2))
  // The scene generator is main-side code, so it runs under tsx with the app's paths.
  const written = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), ['--tsconfig', 'tsconfig.node.json', 'test/e2e/fixtures/streetScenesFolder.ts', scenes], {
    cwd: root,
    encoding: 'utf8'
  })
  if (written.status !== 0) throw new Error(`scenes failed: ${written.stderr}`)
  server = await startServer([], { CTXLENS_HOME: dir })
  browser = await launchBrowser()
  page = await browser.newPage({ colorScheme: 'light', viewport: { width: 1400, height: 900 } })
  await new ShellPage(page).open(server.url)
})
afterAll(async () => {
  await browser?.close()
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('from a bare ONNX export to a first explanation in Chromium', () => {
  it('starts a project and imports the street scenes', async () => {
    await page.getByTestId('nav-models').click()
    await page.getByTestId('empty-models').waitFor()
    await new ShellPage(page).createProject(join(dir, 'my-audit.ctxlens'))
    await page.getByTestId('no-models').waitFor()
    const report = await callApi<{ dataset: { id: number } }>(server, 'datasets:import', { root: scenes })
    datasetId = report.dataset.id
    expect(readdirSync(exportDir)).toEqual(['street-unet.onnx'])
  })

  it('adds the export through the dialog: checks all pass, NHWC read from the graph, listed on ONNX Runtime', async () => {
    const models = new ModelsPage(page)
    await models.startAdding()
    // Left open, the output kind is guessed from a probe (a warning); the user knows the export ends in a softmax.
    await models.describe({ path: modelFile, classes: { file: classesFile }, normalise: 'range:0,1' })
    await models.check()
    await expect.poll(() => models.checkWithStatus('warning').textContent()).toContain('assumed to be probabilities')
    await models.describe({ path: modelFile, output: 'probabilities' })
    await models.check()
    await expect.poll(() => page.getByTestId('model-layout-found').textContent()).toContain('NHWC (read from the input shape)')
    const checks = await models.checks.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-status')}: ${e.textContent?.trim()}`))
    expect(checks.length).toBeGreaterThan(3)
    expect(checks.filter((c) => !c.startsWith('ok:'))).toEqual([])
    await expect.poll(() => page.getByTestId('model-ready').textContent()).toContain('10 classes, 64×128×3')
    expect(existsSync(`${modelFile}.ctxlens.json`)).toBe(false)
    await screenshot(page, '43-onnx-export-checked')

    await models.add()
    await expect.poll(() => models.rows.count()).toBe(1)
    const row = await models.rows.first().textContent()
    expect(row).toContain('street-unet')
    expect(row).toContain('ONNX Runtime')
    expect(row).toContain('64×128×3')
    const [model] = await callApi<ModelRow[]>(server, 'models:list')
    expect(model.runtime).toBe('onnx')
    modelId = model.id
  })

  it('wrote the description beside the export itself, with the export\'s hash', () => {
    expect(readdirSync(exportDir).sort()).toEqual(['street-unet.onnx', 'street-unet.onnx.ctxlens.json'])
    const description = JSON.parse(readFileSync(`${modelFile}.ctxlens.json`, 'utf8'))
    const sha256 = createHash('sha256').update(readFileSync(modelFile)).digest('hex')
    expect(description).toMatchObject({
      format: 'ctxlens.model',
      modelFormat: 'onnx',
      layout: 'NHWC',
      layoutSource: 'graph',
      output: 'probabilities',
      input: { height: 64, width: 128, channels: 3 },
      normalisation: { kind: 'range', min: 0, max: 1 },
      contentHash: sha256
    })
    expect(description.classes.map((c: { name: string }) => c.name)).toEqual(STREET_SCENE_CLASSES.map((c) => c.name))
  })

  it('predicts the dataset with the ONNX model, picks a segment and explains it with context saliency', async () => {
    const predicted = await callApi<{ predicted: number; failed: unknown[]; pixelAccuracy: number }>(server, 'audit:predict', { datasetId, modelId })
    expect(predicted.failed).toEqual([])
    expect(predicted.predicted).toBe(4)
    // The demo U-Net is trained on these scenes: a model run the wrong way round (layout, range) gets far less.
    expect(predicted.pixelAccuracy).toBeGreaterThan(0.8)

    const datasets = new DatasetsPage(page)
    await datasets.open()
    await expect.poll(() => datasets.tiles.count()).toBe(4)
    await datasets.openImage(0)
    const image = new ImagePage(page, 128)
    await image.canvas.waitFor()
    const imageId = Number(new URL(page.url().replace('/#/', '/')).searchParams.get('id'))
    const view = await callApi<{ segments: Segment[]; modelId: number }>(server, 'images:get', { imageId, modelId })
    expect(view.modelId).toBe(modelId)
    // The largest predicted person, clicked at its mask pixel nearest the box centre; the view picks the smallest
    // segment under the cursor, so that is the one the request should be.
    const person = view.segments.filter((s) => s.kind === 'predicted' && s.predClass === 6).sort((a, b) => b.area - a.area)[0]
    expect(person).toBeDefined()
    const pick = maskPixelNearCentre(person)
    const expected = view.segments.filter((s) => covers(s, pick.x, pick.y)).sort((a, b) => a.area - b.area)[0]
    await image.pickSegmentAt(pick.x, pick.y)
    await expect.poll(() => page.getByTestId('request-info').textContent()).toContain(`1 segment, ${expected.area} px`)

    await image.setOverlays({ gt: false, pred: false })
    const before = await image.canvasPixels()
    await image.runExplanation('context', { steps: 5 })
    await expect.poll(() => page.getByTestId('explanations').textContent()).toMatch(/Context saliency of/)
    const after = await image.canvasPixels(join(screenshotDir, '44-onnx-canvas-saliency.png'))
    await screenshot(page, '45-onnx-first-explanation')
    expect(before.red / before.total).toBeLessThan(0.05)
    expect(after.red / after.total).toBeGreaterThan(0.3)
    const [explanation] = await callApi<{ modelId: number; method: string; segmentId: number | null }[]>(server, 'explanations:list', { imageId })
    expect(explanation).toMatchObject({ modelId, method: 'context', segmentId: expected.id })
  })
})

function covers(s: Segment, x: number, y: number): boolean {
  const [x0, y0, w, h] = s.bbox
  if (x < x0 || y < y0 || x >= x0 + w || y >= y0 + h) return false
  return s.cropMask[(y - y0) * w + (x - x0)] === 1
}

function maskPixelNearCentre(s: Segment): { x: number; y: number } {
  const [x0, y0, w, h] = s.bbox
  let best = { x: x0, y: y0, d: Infinity }
  for (let y = y0; y < y0 + h; y++)
    for (let x = x0; x < x0 + w; x++) {
      const d = (x - x0 - w / 2) ** 2 + (y - y0 - h / 2) ** 2
      if (covers(s, x, y) && d < best.d) best = { x, y, d }
    }
  return best
}
