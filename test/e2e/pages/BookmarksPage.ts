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

  /** Red (saliency) and blue (request outline) pixels of one of a row's thumbnails, once it has loaded. */
  async thumbnailPixels(row: Locator, kind: 'image' | 'prediction' | 'saliency'): Promise<PixelCounts> {
    const img = row.getByTestId(`bookmark-thumb-${kind}`)
    await img.waitFor()
    // Decoded, not just in the DOM: a screenshot of an image still loading is blank.
    for (let i = 0; i < 100 && !(await img.evaluate('(el) => el.complete && el.naturalWidth > 0')); i++) await this.page.waitForTimeout(50)
    const { data, info } = await sharp(await img.screenshot()).removeAlpha().raw().toBuffer({ resolveWithObject: true })
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
