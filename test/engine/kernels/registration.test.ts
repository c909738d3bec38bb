import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import { initBackend } from '@main/engine/backend'
import { FIXED_KERNEL_CONFIGS, GRADIENT_CONFIGS, WASM_KERNEL_CONFIGS, registerGradientOverrides, registerWasmKernels } from '@main/engine/kernels/index'

// This file runs in its own process (vitest forks per file), so it sees the registry as the app does at start-up.
describe('kernel registration through the engine', () => {
  it('initBackend on wasm registers every kernel and gradient, and the dilated gradient runs', async () => {
    const info = await initBackend({ flag: 'wasm' })
    expect(info.tfBackend).toBe('wasm')
    expect(tf.getBackend()).toBe('wasm')
    for (const config of [...WASM_KERNEL_CONFIGS, ...FIXED_KERNEL_CONFIGS]) {
      expect(tf.getKernel(config.kernelName, config.backendName)?.kernelFunc, `${config.backendName}/${config.kernelName}`).toBe(config.kernelFunc)
    }
    for (const config of GRADIENT_CONFIGS) expect(tf.getGradient(config.kernelName)).toBe(config)
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'same', 'NHWC', 2)))(tf.ones([1, 5, 5, 1]))
    // Each input pixel is counted once per tap that lands inside the 5×5 image: the centre by all 9 taps.
    expect(g.dataSync()[12]).toBe(9)
  })

  it('registering again is a no-op and warns about nothing', () => {
    const before = WASM_KERNEL_CONFIGS.map((c) => tf.getKernel(c.kernelName, c.backendName))
    const warnings: unknown[] = []
    const warn = console.warn
    console.warn = (...args: unknown[]) => void warnings.push(args)
    // The engine and the test setup silence tfjs's warnings (PROD); a duplicate registration's warning must show here.
    tf.env().set('PROD', false)
    try {
      registerWasmKernels()
      registerGradientOverrides()
      registerWasmKernels()
    } finally {
      console.warn = warn
      tf.env().set('PROD', true)
    }
    expect(WASM_KERNEL_CONFIGS.map((c) => tf.getKernel(c.kernelName, c.backendName))).toEqual(before)
    expect(warnings).toEqual([])
  })

  it('repairs a kernel that a later import re-registered over ours', () => {
    const ours = WASM_KERNEL_CONFIGS[0]
    tf.unregisterKernel(ours.kernelName, ours.backendName)
    tf.registerKernel({ ...ours, kernelFunc: () => ({ dataId: {}, shape: [], dtype: 'float32' }) })
    registerWasmKernels()
    expect(tf.getKernel(ours.kernelName, ours.backendName)?.kernelFunc).toBe(ours.kernelFunc)
  })
})
