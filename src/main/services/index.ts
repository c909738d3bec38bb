import type { ServiceImpl } from '@common/contract'
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
  return {
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
}
