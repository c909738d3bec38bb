import type { Locator, Page } from 'playwright-core'

/** Page object for the Models screen and its Add-model dialog. */
export class ModelsPage {
  constructor(readonly page: Page) {}

  get rows(): Locator {
    return this.page.getByTestId('model-row')
  }

  get dialog(): Locator {
    return this.page.getByTestId('add-model-dialog')
  }

  get checks(): Locator {
    return this.page.getByTestId('model-check')
  }

  get addButton(): Locator {
    return this.page.getByTestId('model-add')
  }

  async open(): Promise<void> {
    await this.page.getByTestId('nav-models').click()
    await this.page.getByTestId('models').waitFor()
  }

  async startAdding(): Promise<void> {
    await this.page.getByTestId('add-model').click()
    await this.dialog.waitFor()
  }

  /** Fill in what a user knows about the model; fields left out keep the dialog's defaults. */
  async describe(d: { path: string; classes?: 'cityscapes' | 'voc' | { json: string } | { file: string }; normalise?: 'range:0,1' | 'range:-1,1' | 'imagenet'; input?: string; output?: 'logits' | 'probabilities' }): Promise<void> {
    await this.page.getByTestId('model-path').fill(d.path)
    if (typeof d.classes === 'string') await this.page.getByTestId('model-classes').selectOption(d.classes)
    else if (d.classes && 'file' in d.classes) {
      await this.page.getByTestId('model-classes').selectOption('file')
      await this.page.getByTestId('model-classes-file').fill(d.classes.file)
    } else if (d.classes) {
      await this.page.getByTestId('model-classes').selectOption('json')
      await this.page.getByTestId('model-classes-json').fill(d.classes.json)
    }
    if (d.normalise) await this.page.getByTestId('model-normalise').selectOption(d.normalise)
    if (d.input !== undefined) await this.page.getByTestId('model-input').fill(d.input)
    if (d.output) await this.page.getByTestId('model-output').selectOption(d.output)
  }

  /** Run the checks on the server; resolves once their list is shown (or the dialog shows an error). */
  async check(): Promise<void> {
    await this.page.getByTestId('model-check-button').click()
    await this.page.locator('[data-testid="model-checks"], [data-testid="model-dialog-error"]').first().waitFor()
  }

  checkWithStatus(status: 'ok' | 'warning' | 'error'): Locator {
    return this.page.locator(`[data-testid="model-check"][data-status="${status}"]`)
  }

  async add(): Promise<void> {
    await this.addButton.click()
    await this.dialog.waitFor({ state: 'detached' })
  }
}
