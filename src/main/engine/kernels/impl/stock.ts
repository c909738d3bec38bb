import type * as tf from '@tensorflow/tfjs'

/** Kernels ours replaced, so a replacement can hand cases it does not cover (e.g. string tensors) back to them. */
const replaced = new Map<string, tf.KernelConfig>()

export function rememberStockKernel(config: tf.KernelConfig): void {
  const key = `${config.backendName}/${config.kernelName}`
  if (!replaced.has(key)) replaced.set(key, config)
}

export function stockKernel(kernelName: string, backendName: string): tf.KernelConfig | undefined {
  return replaced.get(`${backendName}/${kernelName}`)
}
