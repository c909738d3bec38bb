import sharp from 'sharp'
import type { Locator, Page } from 'playwright-core'

export interface PixelCounts {
  total: number
  /** Pixels where red clearly dominates: the saliency heatmap. */
  red: number
  /** Pixels where blue clearly dominates: the request's outline. */
  blue: number
}

/** Page object for the image view: the canvas in image pixels, tools, running an explanation, bookmarking it. */
export class ImagePage {
  constructor(
    readonly page: Page,
    readonly imageWidth: number
  ) {}

  get canvas(): Locator {
    return this.page.getByTestId('image-canvas').locator('canvas.upper-canvas')
  }

  get hoverInfo(): Locator {
    return this.page.getByTestId('hover-info')
  }

  /** Client coordinates of the centre of image pixel (x, y), whatever the canvas's zoom. */
  private async clientPoint(x: number, y: number): Promise<{ x: number; y: number }> {
    const box = (await this.canvas.boundingBox())!
    const scale = box.width / this.imageWidth
    return { x: box.x + (x + 0.5) * scale, y: box.y + (y + 0.5) * scale }
  }

  async hoverPixel(x: number, y: number): Promise<void> {
    const p = await this.clientPoint(x, y)
    await this.page.mouse.move(p.x, p.y)
  }

  async pickSegmentAt(x: number, y: number, options: { add?: boolean } = {}): Promise<void> {
    const p = await this.clientPoint(x, y)
    if (options.add) await this.page.keyboard.down('Shift')
    await this.page.mouse.click(p.x, p.y)
    if (options.add) await this.page.keyboard.up('Shift')
  }

  async useTool(tool: 'pick' | 'brush' | 'eraser' | 'polygon' | 'pan'): Promise<void> {
    await this.page.getByTestId(`tool-${tool}`).click()
  }

  /** A brush or eraser stroke from one image pixel to another, as a mouse drag. */
  async drag(from: [number, number], to: [number, number]): Promise<void> {
    const a = await this.clientPoint(...from)
    const b = await this.clientPoint(...to)
    await this.page.mouse.move(a.x, a.y)
    await this.page.mouse.down()
    await this.page.mouse.move(b.x, b.y, { steps: 8 })
    await this.page.mouse.up()
  }

  async setOverlays(o: { gt?: boolean; pred?: boolean }): Promise<void> {
    if (o.gt !== undefined) await this.page.getByTestId('toggle-gt').setChecked(o.gt)
    if (o.pred !== undefined) await this.page.getByTestId('toggle-pred').setChecked(o.pred)
  }

  async runExplanation(method: 'grid' | 'context' | 'vg' | 'ig' | 'sg', params: Record<string, number>): Promise<void> {
    await this.page.getByTestId('method').selectOption(method)
    for (const [k, v] of Object.entries(params)) await this.page.getByTestId(`param-${k}`).fill(String(v))
    const before = await this.page.getByTestId('explanations').locator('li').count().catch(() => 0)
    await this.page.getByTestId('run').click()
    await this.page.getByTestId('explanations').locator('li').nth(before).waitFor({ timeout: 120_000 })
  }

  /** The canvas as the user sees it, decoded, with its red and blue pixels counted. */
  async canvasPixels(path?: string): Promise<PixelCounts> {
    const png = await this.page.getByTestId('image-canvas').locator('canvas.lower-canvas').screenshot(path ? { path } : {})
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true })
    let red = 0
    let blue = 0
    for (let i = 0; i < data.length; i += info.channels) {
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]]
      if (r > g + 60 && r > b + 60) red++
      if (b > 200 && b > r + 100 && b > g + 60) blue++
    }
    return { total: info.width * info.height, red, blue }
  }

  async bookmarkExplanation(title: string, tags: string, note: string): Promise<void> {
    const panel = this.page.getByTestId('annotations-explanation')
    await panel.getByTestId('bookmark-title').fill(title)
    await panel.getByTestId('bookmark-tags').fill(tags)
    await panel.getByTestId('note-body').fill(note)
    await panel.getByTestId('bookmark-save').click()
    await panel.getByTestId('notes').getByText(note).waitFor()
  }
}
