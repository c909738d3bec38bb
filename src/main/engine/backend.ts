import * as tf from '@tensorflow/tfjs'
import { AppError } from '@common/errors'
import { BACKEND_NAMES, type BackendName } from '@common/types'
import { registerGradientOverrides, registerWasmKernels } from './kernels/index'

export { BACKEND_NAMES, type BackendName }

export interface BackendInfo {
  /** Our name for what was chosen. */
  name: BackendName
  /** tfjs's own backend name (tfjs-node and tfjs-node-gpu both register 'tensorflow'). */
  tfBackend: string
  /** Why each earlier candidate was passed over, for `ctxlens info` and the UI. */
  skipped: { name: BackendName; reason: string }[]
  forcedBy?: 'flag' | 'env' | 'setting'
}

/** Preference order: CUDA, native CPU, wasm, plain JS. */
const ORDER: BackendName[] = ['node-gpu', 'node', 'wasm', 'cpu']

/**
 * TensorFlow.js's console chatter is for people writing tfjs code, not for our users: the CPU backend's first tensor
 * in Node prints a "looks like you are running TensorFlow.js in Node.js ... install our node backend" banner, and
 * that advice is already acted on by the backend order above. tfjs 4's PROD flag gates only its warn/log calls
 * (errors still throw), so this loses nothing a user could act on. Set at import, before any tensor, because code
 * that creates a tensor before initBackend() gets tfjs's default (CPU) backend and its banner.
 */
export function silenceTfjsChatter(): void {
  tf.env().set('PROD', true)
}
silenceTfjsChatter()

let current: BackendInfo | null = null
let pending: Promise<BackendInfo> | null = null

/** Optional packages are imported by a name the bundler cannot see, so a missing one is a run-time miss, not a build error. */
async function importOptional(name: string): Promise<unknown> {
  return import(/* @vite-ignore */ name)
}

/**
 * tf.setBackend() reports why a backend failed to initialise only through the warnings that PROD silences; let them
 * through while it runs, so a backend that will not start still says why on the console.
 */
async function setBackendSayingWhyNot(tfName: string): Promise<boolean> {
  tf.env().set('PROD', false)
  try {
    return await tf.setBackend(tfName)
  } finally {
    silenceTfjsChatter()
  }
}

async function tryBackend(name: BackendName): Promise<string> {
  switch (name) {
    case 'node-gpu': {
      // Optional dependency: absent or without its native binary on most machines, so a failed import is normal.
      await importOptional('@tensorflow/tfjs-node-gpu')
      if (!(await setBackendSayingWhyNot('tensorflow'))) throw new Error('tfjs-node-gpu loaded but its backend did not start')
      return 'tensorflow'
    }
    case 'node': {
      await importOptional('@tensorflow/tfjs-node')
      if (!(await setBackendSayingWhyNot('tensorflow'))) throw new Error('tfjs-node loaded but its backend did not start')
      return 'tensorflow'
    }
    case 'wasm': {
      await import('@tensorflow/tfjs-backend-wasm')
      registerWasmKernels()
      if (!(await setBackendSayingWhyNot('wasm'))) throw new Error('the wasm backend did not initialise')
      return 'wasm'
    }
    case 'cpu': {
      if (!(await setBackendSayingWhyNot('cpu'))) throw new Error('the cpu backend did not initialise')
      return 'cpu'
    }
  }
}

/** Which backend a caller asked for: CLI flag first, then the environment, then the user setting. */
export function resolveForcedBackend(flag?: string, setting?: string): { name: BackendName; by: 'flag' | 'env' | 'setting' } | null {
  const candidates: [string | undefined, 'flag' | 'env' | 'setting'][] = [
    [flag, 'flag'],
    [process.env.CTXLENS_BACKEND, 'env'],
    [setting, 'setting']
  ]
  for (const [value, by] of candidates) {
    if (value === undefined || value === '' || value === 'auto') continue
    if (!(BACKEND_NAMES as readonly string[]).includes(value)) {
      throw new AppError('INVALID_PAYLOAD', `Unknown backend "${value}" (from ${by}); use one of ${BACKEND_NAMES.join(', ')} or auto`, {
        value,
        source: by
      })
    }
    return { name: value as BackendName, by }
  }
  return null
}

/**
 * Start TensorFlow.js on the best backend that loads. A forced backend that fails to load is an error, not a
 * silent fallback: the user asked for it by name.
 */
export function initBackend(options: { flag?: string; setting?: string } = {}): Promise<BackendInfo> {
  if (current) return Promise.resolve(current)
  if (pending) return pending
  pending = (async () => {
    const forced = resolveForcedBackend(options.flag, options.setting)
    const skipped: BackendInfo['skipped'] = []
    const candidates = forced ? [forced.name] : ORDER
    for (const name of candidates) {
      try {
        const tfBackend = await tryBackend(name)
        await tf.ready()
        // Gradients of dilated convolutions and a few others are missing on every backend; ours fill them in.
        registerGradientOverrides()
        current = { name, tfBackend, skipped, ...(forced ? { forcedBy: forced.by } : {}) }
        return current
      } catch (err) {
        skipped.push({ name, reason: err instanceof Error ? err.message.split('\n')[0] : String(err) })
      }
    }
    throw new AppError('BACKEND_UNAVAILABLE', `No TensorFlow.js backend could start (${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})`, {
      skipped
    })
  })()
  pending.catch(() => {
    pending = null
  })
  return pending
}

/**
 * Forget the choice so the next initBackend() chooses again; for benchmarks that compare backends in one process
 * (the kernels registered for the earlier backend stay registered, which is harmless).
 */
export function resetBackendChoice(): void {
  current = null
  pending = null
}
