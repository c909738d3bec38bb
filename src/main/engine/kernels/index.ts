/**
 * The engine's extra kernels and gradients. backend.ts calls registerWasmKernels() after importing the wasm
 * backend and before selecting it; cpu (or other backend) users call registerGradientOverrides() after importing
 * their backend.
 */
import * as tf from '@tensorflow/tfjs'
import { avgPoolGradConfig as avgPoolGradientConfig } from './gradients/AvgPool_grad'
import { conv2DGradConfig } from './gradients/Conv2D_grad'
import { depthwiseConv2dNativeGradConfig } from './gradients/DepthwiseConv2dNative_grad'
import { nonDifferentiableGradConfigs } from './gradients/non_differentiable'
import { fusedConv2DGradConfig, fusedDepthwiseConv2DGradConfig, recordFusedConvAttrs } from './gradients/fused_conv_grad'
import { avgPoolGradConfig } from './wasm/AvgPoolGrad'
import { conv2DBackpropFilterConfig } from './wasm/Conv2DBackpropFilter'
import { conv2DBackpropInputConfig } from './wasm/Conv2DBackpropInput'
import { depthwiseConv2dNativeBackpropFilterConfig } from './wasm/DepthwiseConv2dNativeBackpropFilter'
import { depthwiseConv2dNativeBackpropInputConfig } from './wasm/DepthwiseConv2dNativeBackpropInput'
import { maxPoolGradConfig } from './wasm/MaxPoolGrad'
import { resizeBilinearGradConfigs } from './shared/ResizeBilinearGrad'
import { resizeNearestNeighborGradConfigs } from './shared/ResizeNearestNeighborGrad'
import { sliceConfig, splitVConfig } from './wasm/Slice'
import { tileConfig } from './wasm/Tile'
import { unsortedSegmentSumConfig } from './wasm/UnsortedSegmentSum'
import { rememberStockKernel } from './impl/stock'

export {
  conv2dBackpropFilterImpl,
  conv2dBackpropInputImpl,
  depthwiseConv2dBackpropFilterImpl,
  depthwiseConv2dBackpropInputImpl
} from './impl/conv_backprop'

/** Kernels that replace (or fill in for) the wasm backend's own. */
export const WASM_KERNEL_CONFIGS: readonly tf.KernelConfig[] = [
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  unsortedSegmentSumConfig,
  maxPoolGradConfig,
  avgPoolGradConfig,
  sliceConfig,
  splitVConfig,
  tileConfig
]

export const GRADIENT_CONFIGS: readonly tf.GradConfig[] = [
  conv2DGradConfig,
  depthwiseConv2dNativeGradConfig,
  fusedConv2DGradConfig,
  fusedDepthwiseConv2DGradConfig,
  avgPoolGradientConfig
]

/** Kernels that replace buggy stock kernels on both cpu and wasm (see each file for the bug). */
export const FIXED_KERNEL_CONFIGS: readonly tf.KernelConfig[] = [...resizeBilinearGradConfigs, ...resizeNearestNeighborGradConfigs]

let gradientsRegistered = false

/**
 * Registers `config` unless it is already the registered kernel. Checking the registered function (rather than a
 * flag) keeps this idempotent and also repairs the case where a backend package imported later re-registered its
 * own kernel over ours.
 */
function ensureKernel(config: tf.KernelConfig): void {
  const current = tf.getKernel(config.kernelName, config.backendName)
  if (current?.kernelFunc === config.kernelFunc) return
  if (current != null) {
    rememberStockKernel(current)
    tf.unregisterKernel(config.kernelName, config.backendName)
  }
  tf.registerKernel(config)
}

/**
 * What every backend needs, idempotent:
 * - gradients for dilated convolutions (plain and fused), avgPool gradients that are right at padded borders, and
 *   zero gradients for comparison/logical ops (registered once, backend-independent);
 * - ResizeBilinearGrad / ResizeNearestNeighborGrad kernels that honour halfPixelCenters, for cpu and wasm;
 * - the attribute recording that the fused gradients need, on every backend registered so far — call this again
 *   after importing another backend package.
 */
export function registerGradientOverrides(): void {
  for (const config of FIXED_KERNEL_CONFIGS) {
    // A backend whose package is not imported yet would overwrite ours (with a warning) when it is.
    if (tf.getKernelsForBackend(config.backendName).length > 0) ensureKernel(config)
  }
  recordFusedConvAttrs()
  if (gradientsRegistered) return
  for (const config of [...GRADIENT_CONFIGS, ...nonDifferentiableGradConfigs()]) tf.registerGradient(config)
  gradientsRegistered = true
}

/**
 * The fast / missing wasm gradient kernels plus everything registerGradientOverrides() does. Idempotent. Call it
 * after importing '@tensorflow/tfjs-backend-wasm' (its import registers the stock kernels, which would otherwise
 * replace these).
 */
export function registerWasmKernels(): void {
  for (const config of WASM_KERNEL_CONFIGS) ensureKernel(config)
  registerGradientOverrides()
}
