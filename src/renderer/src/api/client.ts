import { METHODS, type Client, type Method } from '@common/contract'
import { AppError } from '@common/errors'
import { pickTransport, type Transport } from './transport'

/** A typed function per contract method; failures come back as AppError with the server's code. */
export function createClient(transport: Transport): Client {
  const client = {} as Record<Method, (input: unknown) => Promise<unknown>>
  for (const method of METHODS) {
    client[method] = async (input) => {
      const reply = await transport.invoke(method, input)
      if (!reply.ok) throw AppError.fromShape(reply.error)
      return reply.result
    }
  }
  return client as unknown as Client
}

export const transport = pickTransport()
export const api = createClient(transport)
