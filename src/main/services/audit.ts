import type { auditMethods } from '@common/methods/audit'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'

export function auditServices(_ctx: ServiceContext): AreaServices<typeof auditMethods> {
  return {}
}
