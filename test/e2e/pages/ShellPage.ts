import type { Locator, Page } from 'playwright-core'

/** Page object for the app shell: navigation, the header badges and the project picker. */
export class ShellPage {
  constructor(readonly page: Page) {}

  get backendBadge(): Locator {
    return this.page.getByTestId('backend')
  }

  get projectName(): Locator {
    return this.page.getByTestId('project-name')
  }

  get errorBanner(): Locator {
    return this.page.getByTestId('error')
  }

  async open(url: string): Promise<void> {
    await this.page.goto(url)
    await this.backendBadge.waitFor()
  }

  async goTo(screen: 'datasets' | 'image' | 'errors' | 'jobs' | 'reports' | 'benchmark'): Promise<Locator> {
    await this.page.getByTestId(`nav-${screen}`).click()
    const empty = this.page.getByTestId(`empty-${screen}`)
    await empty.waitFor()
    return empty
  }

  async createProject(path: string): Promise<void> {
    await this.page.getByTestId('project-path').fill(path)
    await this.page.getByTestId('project-create').click()
  }

  async openProject(path: string): Promise<void> {
    await this.page.getByTestId('project-path').fill(path)
    await this.page.getByTestId('project-open').click()
  }
}
