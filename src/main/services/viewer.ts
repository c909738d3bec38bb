import type { viewerMethods } from '@common/methods/viewer'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'

export function viewerServices(_ctx: ServiceContext): AreaServices<typeof viewerMethods> {
  return {}
}
