import type { OnnxProvider } from './onnxSegmentationModel'

/** ONNX Runtime intra-op threads set with CTXLENS_ONNX_THREADS (by the user, or by the pool in each worker). */
export function envOnnxThreads(): number | undefined {
  const n = Number(process.env.CTXLENS_ONNX_THREADS)
  return Number.isInteger(n) && n > 0 ? n : undefined
}

/** The execution provider asked for with CTXLENS_ONNX_PROVIDER (cpu unless the user installed CUDA 12 and asks). */
export function onnxProvider(): OnnxProvider {
  return process.env.CTXLENS_ONNX_PROVIDER === 'cuda' ? 'cuda' : 'cpu'
}
