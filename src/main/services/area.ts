import type { ParsedInput, Method, Output } from '@common/contract'

/** The implementation of one area's methods (a module of src/common/methods), checked against the contract. */
export type AreaServices<Methods> = { [M in keyof Methods & Method]: (input: ParsedInput<M>) => Promise<Output<M>> }
