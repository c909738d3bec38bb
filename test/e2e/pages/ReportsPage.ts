import type { Locator, Page } from 'playwright-core'

/** Page object for the Reports screen: the audit statistics as ECharts charts (SVG renderer). */
export class ReportsPage {
  constructor(readonly page: Page) {}

  get view(): Locator {
    return this.page.getByTestId('reports-view')
  }

  /** Charts that have drawn: a chart container with its SVG inside. */
  get renderedCharts(): Locator {
    return this.page.locator('[data-testid="report-chart"] svg')
  }

  async open(): Promise<void> {
    await this.page.getByTestId('nav-reports').click()
    await this.view.waitFor({ timeout: 30_000 })
    await this.renderedCharts.first().waitFor({ timeout: 60_000 })
  }
}
