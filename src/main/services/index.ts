import type { ServiceImpl } from '@common/contract'
import { AppError } from '@common/errors'
import { annotationServices } from './annotations'
import { auditServices } from './audit'
import { benchmarkServices } from './benchmark'
import type { ServiceContext } from './context'
import { coreServices } from './core'
import { datasetServices } from './datasets'
import { explainServices } from './explain'
import { modelServices } from './models'
import { reportServices } from './reports'
import { viewerServices } from './viewer'

/**
 * The service layer: the one implementation of the contract, one module per area like the contract itself.
 * Adapters (IPC, HTTP, CLI) validate input against the contract and call these; nothing here knows which
 * adapter called. The return type makes a method missing from any area a compile error.
 */
export function createServices(ctx: ServiceContext): ServiceImpl {
  const services: ServiceImpl = {
    ...coreServices(ctx),
    ...datasetServices(ctx),
    ...explainServices(ctx),
    ...modelServices(ctx),
    ...annotationServices(ctx),
    ...auditServices(ctx),
    ...viewerServices(ctx),
    ...reportServices(ctx),
    ...benchmarkServices(ctx)
  }
  return withLockedProjectNamed(services, ctx)
}

/**
 * SQLite's "database is locked" (another process holds the write lock past the busy timeout) as a CONFLICT naming
 * the project file, instead of an INTERNAL error that names nothing.
 */
function withLockedProjectNamed(services: ServiceImpl, ctx: ServiceContext): ServiceImpl {
  const wrapped = Object.entries(services).map(([method, impl]) => [
    method,
    async (input: unknown) => {
      try {
        return await (impl as (input: unknown) => Promise<unknown>)(input)
      } catch (err) {
        const code = (err as { code?: unknown }).code
        const path = ctx.currentProject?.path
        if ((code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') && path) {
          throw new AppError('CONFLICT', `The project file ${path} is locked by another process writing to it; try again once that process has finished`, { path })
        }
        throw err
      }
    }
  ])
  return Object.fromEntries(wrapped) as ServiceImpl
}
