import type { Input, Method, Output } from '@common/contract'
import { AppError } from '@common/errors'
import { ServiceContext } from '../services/context'
import { createDispatch, type Dispatch } from '../services/dispatch'
import { createServices } from '../services/index'

/**
 * One CLI invocation's view of the services: the same dispatch (and so the same validation) as the other
 * adapters, with failures turned back into AppError so commands read like ordinary code.
 */
export class CliSession {
  readonly ctx: ServiceContext
  private readonly dispatch: Dispatch

  constructor(options: { backend?: string } = {}) {
    this.ctx = new ServiceContext('cli', options)
    this.dispatch = createDispatch(createServices(this.ctx))
  }

  async call<M extends Method>(method: M, input: Input<M>): Promise<Output<M>> {
    const reply = await this.dispatch(method, input)
    if (!reply.ok) throw AppError.fromShape(reply.error)
    return reply.result as Output<M>
  }

  async openProject(path: string | undefined): Promise<void> {
    if (path) await this.call('project:open', { path })
  }

  dispose(): void {
    this.ctx.dispose()
  }
}
