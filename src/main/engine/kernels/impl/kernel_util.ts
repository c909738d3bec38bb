import * as tf from '@tensorflow/tfjs'

/**
 * Kernel inputs are Tensors when a kernel is reached through an op (the usual path), but a kernel may also be
 * handed bare TensorInfos by another kernel. Kernels written with ops need real Tensors either way; the wrapper
 * shares the data (no copy) and must be disposed by the caller (`owned`).
 */
export function asTensor<R extends tf.Rank>(info: tf.TensorInfo | undefined, name: string): { t: tf.Tensor<R>; owned: boolean } {
  if (info == null) throw new Error(`kernel input '${name}' is missing`)
  if (info instanceof tf.Tensor) return { t: info as tf.Tensor<R>, owned: false }
  return { t: tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor<R>, owned: true }
}

/** Runs an op-level implementation inside a kernel, converting inputs and freeing any wrappers made for them. */
export function withTensors<T extends tf.Tensor>(
  infos: Record<string, tf.TensorInfo | undefined>,
  names: string[],
  fn: (...ts: tf.Tensor4D[]) => T
): T {
  const wrapped = names.map((name) => asTensor<tf.Rank.R4>(infos[name], name))
  try {
    return fn(...wrapped.map((w) => w.t))
  } finally {
    for (const w of wrapped) if (w.owned) w.t.dispose()
  }
}

export const toNHWC = (t: tf.Tensor4D): tf.Tensor4D => tf.transpose(t, [0, 2, 3, 1])
export const toNCHW = (t: tf.Tensor4D): tf.Tensor4D => tf.transpose(t, [0, 3, 1, 2])
export const shapeToNHWC = (s: [number, number, number, number]): [number, number, number, number] => [s[0], s[2], s[3], s[1]]
