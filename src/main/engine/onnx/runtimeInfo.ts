import type { OnnxRuntimeInfo } from '@common/types'
import { onnxProvider } from './threads'

/**
 * Which ONNX Runtime this build runs ONNX models on, for the app's header and `ctxlens info`: its version, the
 * execution provider sessions ask for (CPU unless CTXLENS_ONNX_PROVIDER=cuda) and the providers the binding knows.
 * Loaded lazily so that a build whose native binding is missing still starts and says why.
 */
export async function onnxRuntimeInfo(): Promise<OnnxRuntimeInfo> {
  const provider = onnxProvider()
  try {
    const ort = await import('onnxruntime-node')
    const versions = (ort.env as { versions?: { node?: string; common?: string } }).versions
    const backends = (ort as unknown as { listSupportedBackends?: () => { name: string; bundled: boolean }[] }).listSupportedBackends?.() ?? []
    return {
      available: true,
      version: versions?.node ?? versions?.common ?? null,
      provider,
      providers: backends.map((b) => (b.bundled ? b.name : `${b.name} (installed separately)`))
    }
  } catch (err) {
    return { available: false, version: null, provider, providers: [], reason: err instanceof Error ? err.message : String(err) }
  }
}
