import type { Locator, Page } from 'playwright-core'

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
}
