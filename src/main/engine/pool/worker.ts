/**
 * Worker-thread entry of the EnginePool: starts its own tfjs backend, then runs one task at a time from a registry
 * of handlers by type (the engine's own from ./handlers, plus the modules named in workerData, which the engine
 * loads by path and never imports: saliency's, listed in src/main/engineHandlers.ts).
 */
import { parentPort, workerData, type TransferListItem } from 'node:worker_threads'
import { AppError, toErrorShape } from '@common/errors'
import { initBackend, type BackendInfo } from '../backend'
import { throwIfAborted, yieldToEventLoop } from '../../cancellation'
import type { HandlerRegistry, TaskContext } from './handler'
import { builtinHandlers } from './handlers/index'
import { ModelCache } from './modelCache'
import { OpenedModels } from './openedModels'
import { transferables, type MainToWorker, type WorkerInit, type WorkerToMain } from './protocol'

const port = parentPort
if (!port) throw new Error('engine worker must run in a worker thread')
const init = workerData as WorkerInit
// A worker's process.env is its own copy: ONNX models opened here (openOnnxModel → onnxThreads) read their share.
if (init.onnxThreads) process.env.CTXLENS_ONNX_THREADS = String(init.onnxThreads)

function post(msg: WorkerToMain, transfer: TransferListItem[] = []): void {
  port!.postMessage(msg, transfer)
}

async function loadRegistry(): Promise<HandlerRegistry> {
  const registry: HandlerRegistry = { ...builtinHandlers }
  for (const url of init.handlerModules) {
    const mod = (await import(/* @vite-ignore */ url)) as { handlers?: HandlerRegistry }
    if (!mod.handlers) throw new AppError('INTERNAL', `Handler module ${url} exports no "handlers"`)
    Object.assign(registry, mod.handlers)
  }
  return registry
}

async function main(): Promise<void> {
  let backend: BackendInfo
  let registry: HandlerRegistry
  try {
    backend = await initBackend(init.backend && init.backend !== 'auto' ? { flag: init.backend } : {})
    // Models sent here as artifacts may use the zoo's custom layer classes; registration is per thread.
    ;(await import('../models/index')).registerZooLayers()
    registry = await loadRegistry()
  } catch (err) {
    post({ kind: 'initError', error: toErrorShape(err) })
    return
  }
  const models = new ModelCache()
  const opened = new OpenedModels()
  const state = new Map<string, unknown>()
  const running = new Map<number, AbortController>()

  async function runTask(id: number, type: string, payload: unknown): Promise<void> {
    const controller = new AbortController()
    running.set(id, controller)
    const owned: { dispose(): void }[] = []
    const ctx: TaskContext = {
      signal: controller.signal,
      backend,
      slot: init.slot,
      state,
      progress: (data, transfer = []) => post({ kind: 'progress', id, data }, transfer),
      checkpoint: async () => {
        await yieldToEventLoop()
        throwIfAborted(controller.signal)
      },
      loadModel: async (ref) => {
        const { model, owned: mine } = await models.get(ref)
        // Models sent without a key are built for this task only.
        if (mine) owned.push(model)
        return model
      },
      openModel: (location) => opened.open(location)
    }
    try {
      const handler = registry[type]
      if (!handler) throw new AppError('UNKNOWN_METHOD', `No engine task handler for "${type}"`, { type, known: Object.keys(registry) })
      const result = await handler(payload, ctx)
      post({ kind: 'result', id, result }, transferables(result))
    } catch (err) {
      post({ kind: 'error', id, error: toErrorShape(err) })
    } finally {
      running.delete(id)
      for (const m of owned) m.dispose()
    }
  }

  port!.on('message', (msg: MainToWorker) => {
    if (msg.kind === 'cancel') running.get(msg.id)?.abort()
    else if (msg.kind === 'task') void runTask(msg.id, msg.type, msg.payload)
  })
  post({ kind: 'ready', backend, handlerTypes: Object.keys(registry) })
}

void main()
