import type { Locator, Page } from 'playwright-core'

/** Page object for the dataset browser: filters in the URL, the virtualized grid, opening an image. */
export class DatasetsPage {
  constructor(readonly page: Page) {}

  get count(): Locator {
    return this.page.getByTestId('image-count')
  }

  get tiles(): Locator {
    return this.page.getByTestId('image-tile')
  }

  async open(): Promise<void> {
    await this.page.getByTestId('nav-datasets').click()
    await this.page.getByTestId('image-grid').waitFor()
  }

  async filterErrors(gtClass: string, predClass: string): Promise<void> {
    await this.page.getByTestId('filter-error-gt').selectOption({ label: gtClass })
    await this.page.getByTestId('filter-error-pred').selectOption({ label: predClass })
  }

  async filterSplit(split: string): Promise<void> {
    await this.page.getByTestId('filter-split').selectOption({ value: split })
  }

  async openImage(index = 0): Promise<void> {
    await this.tiles.nth(index).click()
    await this.page.getByTestId('image-view').waitFor()
  }
}
