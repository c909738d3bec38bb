/** Methods of this area are added here (see contract.ts). */
export const auditMethods = {} as const
