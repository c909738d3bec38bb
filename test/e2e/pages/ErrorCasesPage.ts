import type { Locator, Page } from 'playwright-core'

/** Page object for the error-case screen: the confusion matrix, its pixels/segments toggle, and a cell's segments. */
export class ErrorCasesPage {
  constructor(readonly page: Page) {}

  get matrix(): Locator {
    return this.page.getByTestId('confusion-matrix')
  }

  get rows(): Locator {
    return this.page.getByTestId('segment-row')
  }

  cell(gt: number, pred: number): Locator {
    return this.page.getByTestId(`cell-${gt}-${pred}`)
  }

  async open(): Promise<void> {
    await this.page.getByTestId('nav-errors').click()
    await this.matrix.waitFor()
  }

  async countIn(unit: 'pixels' | 'segments'): Promise<void> {
    await this.page.getByTestId(`unit-${unit}`).click()
  }

  /** Clicks the cell of ground truth `gt` predicted as `pred` and waits for its segments. */
  async pickCell(gt: number, pred: number): Promise<void> {
    await this.cell(gt, pred).click()
    await this.rows.first().waitFor()
  }

  /** Leaves segments smaller than `px` out of the segment counts and lists. */
  async setMinArea(px: number): Promise<void> {
    await this.page.getByTestId('errors-min-area').fill(String(px))
    await this.page.getByTestId('errors-min-area').press('Enter')
  }

  async sortBy(column: 'area' | 'confidence'): Promise<void> {
    await this.page.getByTestId(`sort-${column}`).click()
  }

  async areas(): Promise<number[]> {
    return (await this.page.getByTestId('segment-area').allTextContents()).map(Number)
  }

  /** Opens the segment of row `index` in the image view. */
  async openSegment(index = 0): Promise<void> {
    await this.rows.nth(index).getByTestId('open-segment').click()
    await this.page.getByTestId('image-view').waitFor()
  }
}
