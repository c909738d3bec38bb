import { createRequire } from 'node:module'
import { afterEach, describe, expect, it } from 'vitest'
import { onnxRuntimeInfo } from '@main/engine/onnx/runtimeInfo'

const installed = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version

describe('ONNX Runtime info (header badge, ctxlens info)', () => {
  afterEach(() => {
    delete process.env.CTXLENS_ONNX_PROVIDER
  })

  it('names the installed binding, the CPU provider, and CUDA as installed separately', async () => {
    const info = await onnxRuntimeInfo()
    expect(info).toMatchObject({ available: true, version: installed, provider: 'cpu' })
    expect(info.providers).toContain('cpu')
    expect(info.providers.some((p) => p.startsWith('cuda'))).toBe(true)
  })

  it('reports the provider asked for with CTXLENS_ONNX_PROVIDER', async () => {
    process.env.CTXLENS_ONNX_PROVIDER = 'cuda'
    expect((await onnxRuntimeInfo()).provider).toBe('cuda')
  })
})
