import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker, type TransferListItem } from 'node:worker_threads'
import { AppError, type ErrorShape } from '@common/errors'
import { cancelledError } from '../../cancellation'
import type { BackendInfo } from '../backend'
import { envOnnxThreads } from '../onnx/threads'
import type { MainToWorker, PayloadOf, ProgressOf, ResultOf, TaskType, WorkerInit, WorkerToMain } from './protocol'

export interface PoolOptions {
  /** Backend each worker starts (default: CTXLENS_BACKEND or initBackend's preference order). */
  backend?: string
  /** Extra handler modules (paths or file URLs) each worker imports; each exports `handlers`. */
  handlerModules?: string[]
  /** How long a cancelled task may keep its worker busy before the worker is terminated and replaced. */
  cancelGraceMs?: number
  /** Worker entry file; default CTXLENS_WORKER_ENTRY, else ./worker.ts next to this file. */
  entry?: string
  /** ONNX Runtime intra-op threads per worker; default CTXLENS_ONNX_THREADS, else cores ÷ workers. */
  onnxThreads?: number
}

/**
 * ONNX Runtime's intra-op threads per worker: workers × threads = cores, so a pool of n workers neither leaves
 * cores idle nor oversubscribes them (each ORT session otherwise starts one spinning thread per core).
 */
export function onnxThreadsPerWorker(workers: number, options: PoolOptions = {}): number {
  return options.onnxThreads ?? envOnnxThreads() ?? Math.max(1, Math.floor(availableParallelism() / workers))
}

export interface Task<K extends string = string, P = unknown> {
  type: K
  payload: P
  /** Buffers to move to the worker instead of copying; they are detached here afterwards. */
  transfer?: TransferListItem[]
}

export interface RunOptions<G = unknown> {
  onProgress?: (data: G) => void
  signal?: AbortSignal
  /** Pin the task to one pool slot (for handlers that keep state in their worker). */
  worker?: number
  /**
   * 'interactive' tasks (a user waiting at the image screen) go to the next free worker ahead of every queued
   * 'background' task (audits, benchmarks). Running tasks are never preempted: a batch task finishes its share.
   */
  priority?: TaskPriority
  /** Called once, when the task is handed to a worker (it may wait in the queue before that). */
  onStart?: () => void
}

export type TaskPriority = 'interactive' | 'background'

/** What the pool is doing now: for a caller that wants to say why its task waits. */
export interface PoolLoad {
  workers: number
  busy: number
  queued: { interactive: number; background: number }
}

interface Pending {
  id: number
  type: string
  payload: unknown
  transfer: TransferListItem[]
  opts: RunOptions<any>
  resolve: (v: any) => void
  reject: (e: unknown) => void
  settled: boolean
  cleanup: () => void
}

interface Slot {
  index: number
  worker: Worker | null
  ready: boolean
  backend: BackendInfo | null
  handlerTypes: string[]
  current: Pending | null
  /** Id of a cancelled task the worker is still finishing; the slot takes no work until it reports back. */
  draining: number | null
  drainTimer: NodeJS.Timeout | null
  /** Workers that died before becoming ready, in a row; stops a respawn loop when the backend cannot start. */
  startFailures: number
  expectExit: boolean
}

const MAX_START_FAILURES = 3

function defaultEntry(): string {
  // The concatenation keeps bundlers from resolving (and rewriting) the worker path at build time.
  return process.env.CTXLENS_WORKER_ENTRY ?? fileURLToPath(new URL('./' + 'worker.ts', import.meta.url))
}

function findTsconfig(from: string): string | undefined {
  let dir = dirname(from)
  for (;;) {
    const candidate = join(dir, 'tsconfig.json')
    if (existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/**
 * Starts a worker on a TypeScript entry. `execArgv: ['--import', 'tsx']` is not enough on Node 20: tsx only
 * registers its loader hooks on the main thread there (it checks isMainThread), so a worker's .ts entry fails with
 * ERR_UNKNOWN_FILE_EXTENSION. An eval bootstrap registers tsx's ESM API inside the worker, with the repository's
 * tsconfig for the @common/@main paths, then imports the entry.
 */
function spawnTsWorker(entry: string, workerData: WorkerInit): Worker {
  const require = createRequire(import.meta.url)
  const tsxApi = pathToFileURL(join(dirname(require.resolve('tsx')), 'esm', 'api', 'index.mjs')).href
  const tsconfig = findTsconfig(entry)
  const code =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((m) => { m.register(${tsconfig ? JSON.stringify({ tsconfig }) : ''}); return import(${JSON.stringify(pathToFileURL(entry).href)}) })`
  return new Worker(code, { eval: true, workerData })
}

function toUrl(p: string): string {
  return /^[a-z]+:\/\//i.test(p) ? p : pathToFileURL(p).href
}

/**
 * A pool of engine worker threads, each with its own tfjs backend. Tasks queue and go to the first idle worker
 * (or to a pinned slot); a crashed worker fails its task with WORKER_CRASHED and is replaced.
 */
export class EnginePool {
  private readonly slots: Slot[] = []
  private readonly queue: Pending[] = []
  private nextId = 1
  private disposed = false
  private readonly options: PoolOptions
  private readonly readyWaiters = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>()
  private onnxThreads = 1

  constructor(options: PoolOptions = {}) {
    this.options = options
  }

  static async create(n?: number, options: PoolOptions = {}): Promise<EnginePool> {
    const pool = new EnginePool(options)
    await pool.start(n)
    return pool
  }

  /** Starts n workers (default: one per core) and resolves once every backend is up. */
  async start(n: number = availableParallelism()): Promise<void> {
    if (this.slots.length > 0) throw new AppError('INTERNAL', 'EnginePool already started')
    if (!Number.isInteger(n) || n < 1) throw new AppError('INVALID_PARAMETERS', `Pool size must be a positive integer, got ${n}`)
    const entry = this.options.entry ?? defaultEntry()
    if (!existsSync(entry)) {
      // Typical in a bundle that forgot to point CTXLENS_WORKER_ENTRY at the built worker: say so instead of a bare exit code.
      throw new AppError('BACKEND_UNAVAILABLE', `Engine worker entry ${entry} does not exist (set CTXLENS_WORKER_ENTRY)`, { entry })
    }
    this.onnxThreads = onnxThreadsPerWorker(n, this.options)
    const started: Promise<void>[] = []
    for (let i = 0; i < n; i++) {
      const slot: Slot = {
        index: i,
        worker: null,
        ready: false,
        backend: null,
        handlerTypes: [],
        current: null,
        draining: null,
        drainTimer: null,
        startFailures: 0,
        expectExit: false
      }
      this.slots.push(slot)
      started.push(new Promise<void>((resolve, reject) => this.readyWaiters.set(i, { resolve, reject })))
      this.spawn(slot)
    }
    try {
      await Promise.all(started)
    } catch (err) {
      await this.dispose()
      throw err
    }
  }

  get size(): number {
    return this.slots.length
  }

  /** The backend each worker runs (null while a replacement is starting). */
  backends(): (BackendInfo | null)[] {
    return this.slots.map((s) => s.backend)
  }

  handlerTypes(): string[] {
    return this.slots.find((s) => s.ready)?.handlerTypes ?? []
  }

  load(): PoolLoad {
    const interactive = this.queue.filter((p) => p.opts.priority === 'interactive').length
    return {
      workers: this.slots.length,
      busy: this.slots.filter((s) => s.current !== null || s.draining !== null).length,
      queued: { interactive, background: this.queue.length - interactive }
    }
  }

  run<K extends TaskType>(task: Task<K, PayloadOf<K>>, opts?: RunOptions<ProgressOf<K>>): Promise<ResultOf<K>>
  run<R = unknown, G = unknown>(task: Task, opts?: RunOptions<G>): Promise<R>
  run(task: Task, opts: RunOptions = {}): Promise<unknown> {
    if (this.disposed) return Promise.reject(new AppError('INTERNAL', 'EnginePool is disposed'))
    if (this.slots.length === 0) return Promise.reject(new AppError('INTERNAL', 'EnginePool.start() was not called'))
    if (opts.worker !== undefined && !(opts.worker >= 0 && opts.worker < this.slots.length)) {
      return Promise.reject(new AppError('INVALID_PARAMETERS', `No pool worker ${opts.worker}`))
    }
    if (opts.signal?.aborted) return Promise.reject(cancelledError())
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        id: this.nextId++,
        type: task.type,
        payload: task.payload,
        transfer: task.transfer ?? [],
        opts,
        resolve,
        reject,
        settled: false,
        cleanup: () => {}
      }
      if (opts.signal) {
        const onAbort = (): void => this.cancel(pending)
        opts.signal.addEventListener('abort', onAbort, { once: true })
        pending.cleanup = () => opts.signal!.removeEventListener('abort', onAbort)
      }
      this.queue.push(pending)
      this.pump()
    })
  }

  /**
   * One task per payload, spread over the workers; results in the order of the payloads. The first failure
   * cancels the other parts and is what the returned promise rejects with.
   */
  async map<R = unknown, G = unknown>(
    type: string,
    payloads: { payload: unknown; transfer?: TransferListItem[] }[],
    opts: Omit<RunOptions<{ index: number; data: G }>, 'worker'> = {}
  ): Promise<R[]> {
    const controller = new AbortController()
    const onOuterAbort = (): void => controller.abort()
    if (opts.signal?.aborted) controller.abort()
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true })
    let started = false
    // The caller hears once that its work began, when the first part reaches a worker.
    const startOnce = (): void => {
      if (started) return
      started = true
      opts.onStart?.()
    }
    try {
      const parts = payloads.map((p, index) =>
        this.run<R, G>(
          { type, payload: p.payload, transfer: p.transfer },
          {
            signal: controller.signal,
            priority: opts.priority,
            onStart: startOnce,
            onProgress: opts.onProgress ? (data) => opts.onProgress!({ index, data }) : undefined
          }
        )
      )
      for (const part of parts) part.catch(() => controller.abort())
      return await Promise.all(parts)
    } finally {
      opts.signal?.removeEventListener('abort', onOuterAbort)
    }
  }

  /**
   * Splits `count` items (images, requests) into one contiguous range per worker (or `parts`), runs one task per
   * range and returns the results in range order. `make` builds each range's payload (and what it may transfer).
   */
  split<R = unknown, G = unknown>(
    type: string,
    count: number,
    make: (range: { start: number; end: number; index: number }) => { payload: unknown; transfer?: TransferListItem[] },
    opts: Omit<RunOptions<{ index: number; data: G }>, 'worker'> & { parts?: number } = {}
  ): Promise<R[]> {
    const ranges = splitRanges(count, opts.parts ?? this.slots.length)
    return this.map<R, G>(
      type,
      ranges.map((r, index) => make({ ...r, index })),
      opts
    )
  }

  /** Terminates every worker; queued and running tasks reject with CANCELLED. */
  async dispose(): Promise<void> {
    if (this.disposed) return
    this.disposed = true
    const err = cancelledError('The engine pool was shut down')
    for (const p of this.queue.splice(0)) this.settle(p, err)
    for (const w of this.readyWaiters.values()) w.reject(err)
    this.readyWaiters.clear()
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.current) this.settle(slot.current, err)
        if (slot.drainTimer) clearTimeout(slot.drainTimer)
        slot.expectExit = true
        const w = slot.worker
        slot.worker = null
        if (w) await w.terminate()
      })
    )
  }

  private spawn(slot: Slot): void {
    const entry = this.options.entry ?? defaultEntry()
    const backend = this.options.backend ?? process.env.CTXLENS_BACKEND
    const workerData: WorkerInit = {
      handlerModules: (this.options.handlerModules ?? []).map(toUrl),
      slot: slot.index,
      onnxThreads: this.onnxThreads,
      ...(backend ? { backend } : {})
    }
    const worker = entry.endsWith('.ts') ? spawnTsWorker(entry, workerData) : new Worker(entry, { workerData })
    slot.worker = worker
    slot.ready = false
    slot.backend = null
    slot.expectExit = false
    let lastError: unknown = null
    worker.on('message', (msg: WorkerToMain) => this.onMessage(slot, worker, msg))
    worker.on('error', (err) => {
      lastError = err
    })
    worker.on('exit', (code) => {
      if (slot.worker !== worker) return
      this.onExit(slot, code, lastError)
    })
  }

  private onMessage(slot: Slot, worker: Worker, msg: WorkerToMain): void {
    if (slot.worker !== worker) return
    switch (msg.kind) {
      case 'ready': {
        slot.ready = true
        slot.startFailures = 0
        slot.backend = msg.backend
        slot.handlerTypes = msg.handlerTypes
        this.readyWaiters.get(slot.index)?.resolve()
        this.readyWaiters.delete(slot.index)
        this.pump()
        return
      }
      case 'initError': {
        const err = AppError.fromShape(msg.error)
        slot.expectExit = true
        slot.worker = null
        void worker.terminate()
        this.failStart(slot, err)
        return
      }
      case 'progress': {
        const p = slot.current
        if (!p || p.id !== msg.id || p.settled) return
        try {
          p.opts.onProgress?.(msg.data)
        } catch (err) {
          // A throwing progress callback must not become an uncaught exception here: it ends its own task instead.
          this.cancel(p, err)
        }
        return
      }
      case 'result':
      case 'error': {
        if (slot.draining === msg.id) {
          this.finishDrain(slot)
          return
        }
        const p = slot.current
        if (!p || p.id !== msg.id) return
        slot.current = null
        if (msg.kind === 'result') this.settle(p, null, msg.result)
        else this.settle(p, AppError.fromShape(msg.error as ErrorShape))
        this.pump()
        return
      }
    }
  }

  private onExit(slot: Slot, code: number, lastError: unknown): void {
    slot.worker = null
    slot.ready = false
    if (this.disposed || slot.expectExit) return
    const reason = lastError instanceof Error ? lastError.message : `exit code ${code}`
    if (slot.drainTimer) clearTimeout(slot.drainTimer)
    slot.drainTimer = null
    slot.draining = null
    const p = slot.current
    slot.current = null
    if (p) {
      this.settle(p, new AppError('WORKER_CRASHED', `Engine worker ${slot.index} crashed while running "${p.type}": ${reason}`, {
        slot: slot.index,
        type: p.type,
        exitCode: code
      }))
    }
    if (!slot.backend) {
      this.failStart(slot, new AppError('WORKER_CRASHED', `Engine worker ${slot.index} died while starting: ${reason}`, { exitCode: code }))
      return
    }
    this.spawn(slot)
  }

  /** A worker that could not start: retried a few times, then its waiters and pinned tasks fail. */
  private failStart(slot: Slot, err: AppError): void {
    slot.startFailures++
    const waiter = this.readyWaiters.get(slot.index)
    if (waiter) {
      // During start() the caller learns at once; no point retrying a backend that cannot load.
      this.readyWaiters.delete(slot.index)
      waiter.reject(err)
      return
    }
    if (slot.startFailures < MAX_START_FAILURES && !this.disposed) {
      this.spawn(slot)
      return
    }
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const p = this.queue[i]
      if (p.opts.worker === slot.index || this.slots.every((s) => s.startFailures >= MAX_START_FAILURES)) {
        this.queue.splice(i, 1)
        this.settle(p, err)
      }
    }
  }

  /** Ends a task for the caller now (CANCELLED unless another reason is given) and stops it in its worker. */
  private cancel(p: Pending, reason: unknown = cancelledError()): void {
    if (p.settled) return
    const queued = this.queue.indexOf(p)
    if (queued >= 0) {
      this.queue.splice(queued, 1)
      this.settle(p, reason)
      return
    }
    const slot = this.slots.find((s) => s.current === p)
    this.settle(p, reason)
    if (!slot || !slot.worker) return
    // The caller is answered now; the worker is reused once it acknowledges, or replaced if it does not.
    slot.current = null
    slot.draining = p.id
    slot.worker.postMessage({ kind: 'cancel', id: p.id } satisfies MainToWorker)
    slot.drainTimer = setTimeout(() => {
      if (slot.draining !== p.id || !slot.worker) return
      const w = slot.worker
      slot.expectExit = true
      slot.worker = null
      slot.draining = null
      slot.drainTimer = null
      void w.terminate()
      this.spawn(slot)
    }, this.options.cancelGraceMs ?? 5000)
  }

  private finishDrain(slot: Slot): void {
    if (slot.drainTimer) clearTimeout(slot.drainTimer)
    slot.drainTimer = null
    slot.draining = null
    this.pump()
  }

  private settle(p: Pending, err: unknown, value?: unknown): void {
    if (p.settled) return
    p.settled = true
    p.cleanup()
    if (err) p.reject(err)
    else p.resolve(value)
  }

  private pump(): void {
    if (this.disposed) return
    for (const slot of this.slots) {
      if (!slot.ready || !slot.worker || slot.current || slot.draining !== null) continue
      const fits = (p: Pending): boolean => p.opts.worker === undefined || p.opts.worker === slot.index
      let i = this.queue.findIndex((p) => fits(p) && p.opts.priority === 'interactive')
      if (i < 0) i = this.queue.findIndex(fits)
      if (i < 0) continue
      const [p] = this.queue.splice(i, 1)
      slot.current = p
      const msg: MainToWorker = { kind: 'task', id: p.id, type: p.type, payload: p.payload }
      try {
        slot.worker.postMessage(msg, p.transfer as TransferListItem[])
      } catch (err) {
        slot.current = null
        this.settle(p, new AppError('INVALID_PAYLOAD', `Task "${p.type}" cannot be sent to a worker: ${err instanceof Error ? err.message : String(err)}`))
        continue
      }
      try {
        p.opts.onStart?.()
      } catch {
        // A caller's notification must not stall the queue.
      }
    }
  }
}

/** `count` items as `parts` contiguous ranges of near-equal size (no empty ranges). */
export function splitRanges(count: number, parts: number): { start: number; end: number }[] {
  const n = Math.max(1, Math.min(parts, count))
  const out: { start: number; end: number }[] = []
  let start = 0
  for (let i = 0; i < n; i++) {
    const end = start + Math.floor(count / n) + (i < count % n ? 1 : 0)
    out.push({ start, end })
    start = end
  }
  return count === 0 ? [] : out
}
