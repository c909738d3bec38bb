import type { Locator, Page } from 'playwright-core'
import sharp from 'sharp'
import type { PixelCounts } from './ImagePage'

/** Page object for the bookmarks list. */
export class BookmarksPage {
  constructor(readonly page: Page) {}

  get rows(): Locator {
    return this.page.getByTestId('bookmark-row')
  }

  async open(): Promise<void> {
    await this.page.getByTestId('nav-bookmarks').click()
    await this.page.getByTestId('bookmarks').waitFor()
  }

  /**
   * Red (saliency) and blue (request outline) pixels of one of a row's thumbnails, counted on the thumbnail the
   * app sent (its data URL), not on a scaled screenshot of it.
   */
  async thumbnailPixels(row: Locator, kind: 'image' | 'prediction' | 'saliency'): Promise<PixelCounts> {
    const src = await row.getByTestId(`bookmark-thumb-${kind}`).getAttribute('src')
    if (!src?.startsWith('data:')) throw new Error(`the ${kind} thumbnail has no data URL`)
    const { data, info } = await sharp(Buffer.from(src.slice(src.indexOf(',') + 1), 'base64')).removeAlpha().raw().toBuffer({ resolveWithObject: true })
    let red = 0
    let blue = 0
    for (let i = 0; i < data.length; i += info.channels) {
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]]
      if (r > g + 60 && r > b + 60) red++
      if (b > 200 && b > r + 100 && b > g + 60) blue++
    }
    return { total: info.width * info.height, red, blue }
  }
}
