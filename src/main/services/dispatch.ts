import { contract, isMethod, type Method, type Reply, type ServiceImpl } from '@common/contract'
import { AppError, toErrorShape } from '@common/errors'
import type { z } from 'zod'

/** zod issues as plain data, so a client can point at the offending field. */
function describeIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }))
}

export type Dispatch = (method: string, input: unknown) => Promise<Reply<unknown>>

/**
 * The one entry for every adapter: look the method up, validate the payload with the contract's schema, run the
 * service, and turn any failure into the error shape. A bad payload is an answer, never a crash.
 */
export function createDispatch(services: ServiceImpl): Dispatch {
  return async (method, rawInput) => {
    try {
      if (!isMethod(method)) throw new AppError('UNKNOWN_METHOD', `Unknown method "${String(method)}"`, { method })
      const schema = contract[method].input
      const parsed = schema.safeParse(rawInput ?? {})
      if (!parsed.success) {
        const issues = describeIssues(parsed.error)
        throw new AppError('INVALID_PAYLOAD', `Invalid input for ${method}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
          method,
          issues
        })
      }
      const impl = services[method] as (input: unknown) => Promise<unknown>
      const result = await impl(parsed.data)
      return { ok: true, result }
    } catch (err) {
      return { ok: false, error: toErrorShape(err) }
    }
  }
}

export type { Method }
