import { ServiceContext } from '../../src/main/services/context'
import { createDispatch } from '../../src/main/services/dispatch'
import { createServices } from '../../src/main/services/index'
import type { Input, Method, Output } from '../../src/common/contract'
import { AppError } from '../../src/common/errors'

/** The services as every adapter sees them, on one engine worker with the plain CPU backend (exact and small). */
export function services(): { ctx: ServiceContext; call: <M extends Method>(m: M, input: Input<M>) => Promise<Output<M>> } {
  process.env.CTXLENS_WORKERS = '1'
  const ctx = new ServiceContext('cli', { backend: 'cpu' })
  const dispatch = createDispatch(createServices(ctx))
  return {
    ctx,
    call: async (m, input) => {
      const reply = await dispatch(m, input)
      if (!reply.ok) throw AppError.fromShape(reply.error)
      return reply.result as never
    }
  }
}
