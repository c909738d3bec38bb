import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeTinyOnnx } from '../modelImport/onnxFixtures'
import { callApi, launchBrowser, screenshot, startServer, type ServerProcess } from './harness'
import { ModelsPage } from './pages/ModelsPage'
import { ShellPage } from './pages/ShellPage'

/**
 * A new user brings their own ONNX model in Chromium over browser mode: a 1×1-conv + softmax segmentation model
 * written with the IR encoder (as a PyTorch export would be, NCHW, 19 Cityscapes classes), and a broken one whose
 * output channels are not the classes. The dialog shows the inspection and the checks before anything is stored.
 */
const dir = mkdtempSync(join(tmpdir(), 'ctxlens-e2e-models-'))
let server: ServerProcess
let browser: Browser
let page: Page
const good = join(dir, 'segformer-city.onnx')
const bad = join(dir, 'wrong-head.onnx')
const dynamic = join(dir, 'dynamic-size.onnx')

beforeAll(async () => {
  writeTinyOnnx(good, { classes: 19, height: 16, width: 32 })
  writeTinyOnnx(bad, { classes: 4, height: 16, width: 32 })
  writeTinyOnnx(dynamic, { classes: 21, height: 'height', width: 'width' })
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

describe('adding your own model in Chromium', () => {
  it('opens the Models screen on a new project with no models', async () => {
    const shell = new ShellPage(page)
    await page.getByTestId('nav-models').click()
    await page.getByTestId('empty-models').waitFor()
    await shell.createProject(join(dir, 'own-model.ctxlens'))
    await page.getByTestId('no-models').waitFor()
  })

  it('shows the checks of a model whose output channels are not the classes, and stores nothing', async () => {
    const models = new ModelsPage(page)
    await models.startAdding()
    await models.describe({ path: bad, classes: 'cityscapes', normalise: 'imagenet' })
    await models.check()
    const failed = models.checkWithStatus('error')
    await expect.poll(() => failed.count()).toBe(1)
    expect(await failed.textContent()).toContain('output "output" has 4 channels')
    expect(await failed.textContent()).toContain('19 classes')
    expect(await models.addButton.isDisabled()).toBe(true)
    await screenshot(page, '40-add-model-channel-mismatch')
    expect(existsSync(`${bad}.ctxlens.json`)).toBe(false)
    expect(await callApi<unknown[]>(server, 'models:list')).toEqual([])
  })

  it('names a malformed input size as it is typed', async () => {
    const models = new ModelsPage(page)
    await models.describe({ path: good, input: '16x32' })
    await expect.poll(() => page.getByTestId('model-flag-problem').textContent()).toContain('is not HxWxC')
    await models.describe({ path: good, input: '' })
  })

  it('inspects a valid model, shows its checks, adds it and lists it', async () => {
    const models = new ModelsPage(page)
    await models.describe({ path: good, classes: 'cityscapes', normalise: 'imagenet' })
    await models.check()
    await expect.poll(() => page.getByTestId('model-layout-found').textContent()).toContain('NCHW (read from the input shape)')
    expect(await models.checkWithStatus('error').count()).toBe(0)
    const texts = await models.checks.allTextContents()
    expect(texts.join('\n')).toContain('19 output channels, one per class')
    expect(texts.join('\n')).toContain('finite output [1,19,16,32]')
    await expect.poll(() => page.getByTestId('model-ready').textContent()).toContain('19 classes, 16×32×3')
    // Nothing is stored until Add.
    expect(existsSync(`${good}.ctxlens.json`)).toBe(false)
    await screenshot(page, '41-add-model-checked')

    await models.add()
    await expect.poll(() => models.rows.count()).toBe(1)
    const row = await models.rows.first().textContent()
    expect(row).toContain('segformer-city')
    expect(row).toContain('ONNX Runtime')
    expect(row).toContain('16×32×3')
    expect(row).toContain('imagenet')
    await screenshot(page, '42-models-list')
    // The description is on disk beside the file, with the file's hash, written by Context Lens.
    const description = JSON.parse(readFileSync(`${good}.ctxlens.json`, 'utf8'))
    expect(description).toMatchObject({ modelFormat: 'onnx', layout: 'NCHW', classes: expect.any(Array) })
    expect(description.contentHash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('asks for the input size of a model that leaves it open, then adds it', async () => {
    const models = new ModelsPage(page)
    await models.startAdding()
    await models.describe({ path: dynamic, classes: 'voc', normalise: 'range:0,1' })
    await models.check()
    await expect.poll(() => models.checkWithStatus('error').textContent()).toContain('has no fixed size')
    expect(await page.getByTestId('model-missing').textContent()).toContain('input')
    expect(await models.addButton.isDisabled()).toBe(true)
    await models.describe({ path: dynamic, input: '24x40x3' })
    await models.check()
    await expect.poll(() => page.getByTestId('model-ready').textContent()).toContain('21 classes, 24×40×3')
    await models.add()
    await expect.poll(() => models.rows.count()).toBe(2)
    expect(await models.rows.nth(1).textContent()).toContain('24×40×3')
  })
})
