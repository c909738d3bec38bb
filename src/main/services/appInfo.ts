import { createRequire } from 'node:module'
import type { AppInfo } from '@common/types'
import { initBackend } from '../engine/backend'
import { onnxRuntimeInfo } from '../engine/onnx/runtimeInfo'
import { LATEST_SCHEMA_VERSION } from '../store/database'
import type { ServiceContext } from './context'

const requireJson = createRequire(import.meta.url)

/** package.json sits at the project root both for sources (src/main/services) and for the build (out/main). */
function readPackage(): { name: string; version: string } {
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = requireJson(candidate) as { name?: string; version?: string }
      if (pkg.name === 'context-lens') return { name: 'Context Lens', version: pkg.version ?? '0.0.0' }
    } catch {
      // try the next location
    }
  }
  return { name: 'Context Lens', version: '0.0.0' }
}

export async function appInfo(ctx: ServiceContext): Promise<AppInfo> {
  const backend = await initBackend({ flag: ctx.options.backend, setting: ctx.settings.backend })
  const pkg = readPackage()
  const project = ctx.currentProject
  return {
    appName: pkg.name,
    appVersion: pkg.version,
    nodeVersion: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    transport: ctx.transport,
    backend: { name: backend.name, tfBackend: backend.tfBackend, skipped: backend.skipped, ...(backend.forcedBy ? { forcedBy: backend.forcedBy } : {}) },
    onnxRuntime: await onnxRuntimeInfo(),
    project: project ? { path: project.path, schemaVersion: project.schemaVersion, latestSchemaVersion: LATEST_SCHEMA_VERSION } : null
  }
}
