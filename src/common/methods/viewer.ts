/** Methods of this area are added here (see contract.ts). */
export const viewerMethods = {} as const
