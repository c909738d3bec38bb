import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LATEST_SCHEMA_VERSION } from '@main/store/database'
import { auditOptions, buildAuditProject, SIZE } from '../audit/fixtures/project'
import { blockImage, saveChannelModel, writeFolderDataset } from '../audit/fixtures/data'
import { services } from '../audit/helpers'
import { blackGreyPng, declareSize, labelMap, writeGray8 } from '../datasets/import/fixtures'
import { builtCli } from '../helpers/builtApp'
import { tempDir } from '../helpers/tempdir'
import { writeTinyOnnx } from '../modelImport/onnxFixtures'

/**
 * The bad-input corpus (issue 15): every case runs through the real CLI as a user would, and must end with the
 * stable error code, a message naming the file (or the thing) at fault and never the file's content, a non-zero
 * exit without a stack trace, and every stored row of the project exactly as it was.
 */
const dir = tempDir('ctxlens-corpus-')
const cliEntry = builtCli()

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function ctxlens(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliEntry, ...args], {
      env: { ...process.env, CTXLENS_BACKEND: 'cpu', CTXLENS_WORKERS: '1', CTXLENS_HOME: dir.path }
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

/**
 * What a file stores: for an SQLite file a hash of every table's rows (read-only, so looking changes nothing),
 * for anything else a hash of its bytes; absent files say so.
 */
function storedChecksum(path: string): string {
  if (!existsSync(path)) return 'absent'
  const bytes = readFileSync(path)
  if (!bytes.subarray(0, 16).equals(Buffer.from('SQLite format 3\0', 'latin1'))) return `bytes:${createHash('sha256').update(bytes).digest('hex')}`
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const hash = createHash('sha256')
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]
    for (const t of tables) {
      const rows = db.prepare(`SELECT * FROM "${t.replaceAll('"', '""')}" ORDER BY 1`).raw().all()
      hash.update(`${t}:${rows.length}\n`)
      for (const row of rows) hash.update(JSON.stringify(row, (_, v) => (Buffer.isBuffer(v) || v?.type === 'Buffer' ? createHash('sha256').update(Buffer.from(v)).digest('hex') : v)) + '\n')
    }
    return `rows:${tables.length}:${hash.digest('hex')}`
  } finally {
    db.close()
  }
}

/** At most two CLI processes at a time: each loads tfjs, and CI machines have two cores. */
const running: Promise<void>[] = []
async function limited<T>(f: () => Promise<T>): Promise<T> {
  while (running.length >= 2) await Promise.race(running)
  let done!: () => void
  const slot = new Promise<void>((r) => (done = r))
  running.push(slot)
  try {
    return await f()
  } finally {
    running.splice(running.indexOf(slot), 1)
    done()
  }
}

/** The error as printed: `ctxlens: error [CODE] message`, or the JSON error a --json command prints. */
function printedError(stderr: string): { code: string; message: string } {
  const line = /^ctxlens: error \[([A-Z_]+)\] (.*)$/m.exec(stderr)
  if (line) return { code: line[1], message: line[2] }
  const json = stderr.indexOf('{\n  "ok": false')
  expect(json, `no error printed:\n${stderr}`).toBeGreaterThanOrEqual(0)
  return JSON.parse(stderr.slice(json)).error
}

let base: { path: string; datasetId: number; modelId: number; dataRoot: string; jobId: number; renamedModelId: number }
let caseNo = 0
/** A fresh copy of the base project for a case that may write. */
const copyBase = (): string => {
  const path = dir.file(`case${++caseNo}.ctxlens`)
  copyFileSync(base.path, path)
  return path
}
const folder = (name: string): string => {
  const path = join(dir.path, `${name}-${++caseNo}`)
  mkdirSync(path, { recursive: true })
  return path
}

/** A one-image folder dataset (16×16, classes red/green/blue) whose files a case then breaks. */
async function oneImageDataset(name: string): Promise<string> {
  const root = folder(name)
  await writeFolderDataset(root, SIZE, SIZE, [blockImage('only', SIZE, SIZE, 4, 7)])
  return root
}

interface Setup {
  args: string[]
  /** The project (or file given as one) whose stored rows must not change; none when the command takes no project. */
  project?: string
  /** Strings the message must contain: the file or thing at fault. */
  names: string[]
  /** A folder the command must not have written anything into. */
  untouchedDir?: string
  /** Something of the bad file's content the message must not echo. */
  content?: string
  /** Holds something for the duration of the run (a lock, a live owner process); released afterwards. */
  hold?: () => () => void
}

interface Case {
  name: string
  code: string
  setup: () => Promise<Setup>
}

const importInto = (root: string, project = copyBase()): Setup => ({
  args: ['import', '--project', project, '--root', root, '--format', 'folder', '--no-progress'],
  project,
  names: [root]
})

const explainWith = (over: { request?: string; image?: string }): Setup => {
  const out = join(dir.path, `explain-out-${++caseNo}`)
  return {
    args: [
      'explain', '--model', join(dir.path, 'model'), '--image', over.image ?? join(base.dataRoot, 'images', 'im0.png'), '--class', '0',
      ...(over.request ? ['--request', over.request] : ['--auto']), '--steps', '2', '--out', out, '--no-progress'
    ],
    names: [over.request ?? over.image!],
    untouchedDir: out
  }
}

/** A class list file beside the model: `--classes` takes a preset or a file. */
const classesCsv = (beside: string, n: number): string => {
  const path = `${beside}.classes.csv`
  writeFileSync(path, ['id,name', ...Array.from({ length: n }, (_, i) => `${i},class${i}`)].join('\n') + '\n')
  return path
}

const mask = async (path: string, width: number, height: number, value: number): Promise<string> => {
  await sharp(Buffer.alloc(width * height, value), { raw: { width, height, channels: 1 } }).png().toFile(path)
  return path
}

const cases: Case[] = [
  // ── dataset import ─────────────────────────────────────────────────────────────────────────────────────────
  {
    name: 'a label PNG whose header declares 20000×20000 pixels',
    code: 'DATASET_INVALID',
    setup: async () => {
      const root = await oneImageDataset('bomb-label')
      writeFileSync(join(root, 'labels', 'only.png'), blackGreyPng(20000, 20000))
      return { ...importInto(root), names: [root, 'labels/only.png'] }
    }
  },
  {
    name: 'an image whose header declares 10000×10000 pixels',
    code: 'DATASET_INVALID',
    setup: async () => {
      const root = await oneImageDataset('bomb-image')
      writeFileSync(join(root, 'images', 'only.png'), declareSize(blackGreyPng(16, 16), 10000, 10000))
      return { ...importInto(root), names: [root, 'images/only.png'] }
    }
  },
  {
    name: 'a corrupt image',
    code: 'DATASET_INVALID',
    setup: async () => {
      const root = await oneImageDataset('corrupt-image')
      writeFileSync(join(root, 'images', 'only.png'), 'SECRET-PIXELS not a png at all')
      return { ...importInto(root), names: [root, 'images/only.png'], content: 'SECRET-PIXELS' }
    }
  },
  {
    name: 'a label map of the wrong size',
    code: 'DATASET_INVALID',
    setup: async () => {
      const root = await oneImageDataset('label-size')
      await writeGray8(join(root, 'labels', 'only.png'), labelMap(8, 8, () => 0), 8, 8)
      return { ...importInto(root), names: [root, 'LABEL_SIZE_MISMATCH', 'labels/only.png'] }
    }
  },
  {
    name: 'a label map with class ids the class list does not have',
    code: 'DATASET_INVALID',
    setup: async () => {
      const root = await oneImageDataset('unknown-ids')
      await writeGray8(join(root, 'labels', 'only.png'), labelMap(SIZE, SIZE, () => 7), SIZE, SIZE)
      return { ...importInto(root), names: [root, 'UNKNOWN_CLASS_ID', 'labels/only.png'] }
    }
  },
  {
    name: 'a file name that is not valid UTF-8',
    code: 'DATASET_INVALID',
    setup: async () => {
      const root = await oneImageDataset('latin1')
      const cafe = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x70, 0x6e, 0x67])
      for (const sub of ['images', 'labels']) renameSync(join(root, sub, 'only.png'), Buffer.concat([Buffer.from(`${root}/${sub}/`), cafe]))
      return { ...importInto(root), names: [root, 'caf\\xe9.png'] }
    }
  },
  {
    name: 'a classes.json that is not JSON',
    code: 'DATASET_INVALID',
    setup: async () => {
      const root = await oneImageDataset('classes-json')
      writeFileSync(join(root, 'classes.json'), '{ "classes": SECRET-CLASS-LIST')
      return { ...importInto(root), names: [join(root, 'classes.json')], content: 'SECRET-CLASS-LIST' }
    }
  },
  {
    name: 'a folder with no images',
    code: 'DATASET_INVALID',
    setup: async () => importInto(folder('empty-dataset'))
  },
  {
    name: 'the same folder imported again without --allow-duplicate',
    code: 'CONFLICT',
    setup: async () => importInto(base.dataRoot)
  },
  // ── models ─────────────────────────────────────────────────────────────────────────────────────────────────
  {
    name: 'an ONNX model whose output channels do not fit the class list',
    code: 'MODEL_OUTPUT_MISMATCH',
    setup: async () => {
      const onnx = writeTinyOnnx(join(folder('onnx-channels'), 'four.onnx'), { classes: 4 })
      const project = copyBase()
      return { args: ['models', 'add', '--project', project, '--model', onnx, '--classes', 'voc', '--normalise', 'range:0,1'], project, names: [onnx, '4 channels'] }
    }
  },
  {
    name: 'a corrupt .onnx file',
    code: 'MODEL_FILE_INVALID',
    setup: async () => {
      const onnx = join(folder('onnx-corrupt'), 'junk.onnx')
      writeFileSync(onnx, 'SECRET-WEIGHTS definitely not protobuf \xff\xff\xff')
      const project = copyBase()
      return { args: ['models', 'add', '--project', project, '--model', onnx, '--classes', classesCsv(onnx, 2), '--normalise', 'range:0,1'], project, names: [onnx], content: 'SECRET-WEIGHTS' }
    }
  },
  {
    name: 'an ONNX model with NaN/Inf outputs',
    code: 'MODEL_NOT_FINITE',
    setup: async () => {
      const onnx = writeTinyOnnx(join(folder('onnx-nan'), 'nan.onnx'), { nonFinite: true })
      const project = copyBase()
      return { args: ['models', 'add', '--project', project, '--model', onnx, '--classes', classesCsv(onnx, 3), '--normalise', 'range:0,1'], project, names: [onnx] }
    }
  },
  {
    name: 'a tfjs model with a truncated weight shard (hash recomputed)',
    code: 'MODEL_FILE_INVALID',
    setup: async () => {
      const model = folder('truncated')
      cpSync(join(dir.path, 'model'), model, { recursive: true })
      const shard = readdirSync(model).find((f) => f.endsWith('.bin'))!
      const full = readFileSync(join(model, shard)).length
      truncateSync(join(model, shard), full / 2)
      const sidecarPath = join(model, 'ctxlens.model.json')
      const sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8'))
      const hash = createHash('sha256').update(readFileSync(join(model, 'model.json'))).update(readFileSync(join(model, shard))).digest('hex')
      writeFileSync(sidecarPath, JSON.stringify({ ...sidecar, contentHash: hash }))
      const project = copyBase()
      return { args: ['models', 'add', '--project', project, '--model', model], project, names: [model, shard] }
    }
  },
  {
    name: 'a tfjs model.json that is not JSON',
    code: 'MODEL_FILE_INVALID',
    setup: async () => {
      const model = folder('model-json')
      cpSync(join(dir.path, 'model'), model, { recursive: true })
      writeFileSync(join(model, 'model.json'), '{"modelTopology": SECRET-TOPOLOGY')
      const project = copyBase()
      return { args: ['models', 'add', '--project', project, '--model', model], project, names: [model], content: 'SECRET-TOPOLOGY' }
    }
  },
  {
    name: 'the registered weights again with another class list',
    code: 'CONFLICT',
    setup: async () => {
      const model = folder('reclassed')
      cpSync(join(dir.path, 'model'), model, { recursive: true })
      const sidecarPath = join(model, 'ctxlens.model.json')
      const sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8'))
      writeFileSync(sidecarPath, JSON.stringify({ ...sidecar, classes: [sidecar.classes[1], sidecar.classes[0], sidecar.classes[2]].map((c, i) => ({ ...c, id: i })) }))
      const project = copyBase()
      return { args: ['models', 'add', '--project', project, '--model', model], project, names: [model, `model #${base.modelId}`] }
    }
  },
  {
    name: "a model whose class names are not the dataset's (no --class-map)",
    code: 'CLASS_SET_MISMATCH',
    setup: async () => {
      const project = copyBase()
      return { args: ['predict', '--project', project, '--dataset', String(base.datasetId), '--model', String(base.renamedModelId), '--no-progress'], project, names: ['car', 'red'] }
    }
  },
  {
    name: 'an unknown dataset id',
    code: 'NOT_FOUND',
    setup: async () => {
      const project = copyBase()
      return { args: ['predict', '--project', project, '--dataset', '999', '--model', String(base.modelId), '--no-progress'], project, names: ['999'] }
    }
  },
  {
    name: 'an unknown model id',
    code: 'NOT_FOUND',
    setup: async () => {
      const project = copyBase()
      return { args: ['predict', '--project', project, '--dataset', String(base.datasetId), '--model', '998', '--no-progress'], project, names: ['998'] }
    }
  },
  // ── explain ────────────────────────────────────────────────────────────────────────────────────────────────
  {
    name: 'an empty request mask',
    code: 'EMPTY_REQUEST_MASK',
    setup: async () => explainWith({ request: await mask(join(folder('empty-mask'), 'empty.png'), SIZE, SIZE, 0) })
  },
  {
    name: 'a request mask of the wrong size',
    code: 'REQUEST_SIZE_MISMATCH',
    setup: async () => explainWith({ request: await mask(join(folder('small-mask'), 'small.png'), 8, 8, 255) })
  },
  {
    name: 'a corrupt image to explain',
    code: 'IMAGE_UNREADABLE',
    setup: async () => {
      const image = join(folder('explain-corrupt'), 'corrupt.png')
      writeFileSync(image, 'SECRET-IMAGE not a png')
      return { ...explainWith({ image }), content: 'SECRET-IMAGE' }
    }
  },
  // ── project files ──────────────────────────────────────────────────────────────────────────────────────────
  {
    name: 'a project file from a newer schema',
    code: 'PROJECT_SCHEMA_TOO_NEW',
    setup: async () => {
      const project = copyBase()
      const db = new Database(project)
      db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`)
      db.close()
      return { args: ['project', 'show', '--project', project], project, names: [project] }
    }
  },
  {
    name: 'a foreign SQLite file',
    code: 'PROJECT_OPEN_FAILED',
    setup: async () => {
      const project = join(folder('foreign'), 'shop.sqlite')
      const db = new Database(project)
      db.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT); INSERT INTO orders (item) VALUES ('SECRET-ORDER')")
      db.close()
      return { args: ['models', 'list', '--project', project], project, names: [project], content: 'SECRET-ORDER' }
    }
  },
  {
    name: 'a 0-byte project file',
    code: 'PROJECT_OPEN_FAILED',
    setup: async () => {
      const project = join(folder('zero'), 'zero.ctxlens')
      writeFileSync(project, '')
      return { args: ['import', '--project', project, '--root', base.dataRoot, '--no-progress'], project, names: [project] }
    }
  },
  {
    name: 'a text file given as project',
    code: 'PROJECT_OPEN_FAILED',
    setup: async () => {
      const project = join(folder('text'), 'notes.ctxlens')
      writeFileSync(project, 'SECRET-NOTES: these are my meeting notes\n')
      return { args: ['project', 'show', '--project', project], project, names: [project], content: 'SECRET-NOTES' }
    }
  },
  {
    name: 'a project another process holds an exclusive lock on',
    code: 'CONFLICT',
    setup: async () => {
      const project = copyBase()
      return {
        args: ['import', '--project', project, '--root', base.dataRoot, '--allow-duplicate', '--no-progress'],
        project,
        names: [project, 'locked by another process'],
        hold: () => {
          const db = new Database(project)
          db.exec('BEGIN EXCLUSIVE')
          return () => {
            db.exec('ROLLBACK')
            db.close()
          }
        }
      }
    }
  },
  // ── jobs ───────────────────────────────────────────────────────────────────────────────────────────────────
  {
    name: 'audit --resume of a job another live process owns',
    code: 'JOB_RUNNING',
    setup: async () => {
      const project = copyBase()
      let owner: ChildProcess | undefined
      return {
        args: ['audit', '--project', project, '--resume', String(base.jobId), '--no-progress'],
        project,
        names: [`Job ${base.jobId}`],
        hold: () => {
          owner = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' })
          const db = new Database(project)
          db.prepare("UPDATE jobs SET state = 'running', owner_pid = ?, owner_host = ?, owner_token = ?, heartbeat_at = ? WHERE id = ?").run(owner.pid, hostname(), `${owner.pid}-corpus`, Date.now(), base.jobId)
          db.close()
          return () => owner?.kill()
        }
      }
    }
  },
  {
    name: 'audit --resume of a job the project does not have',
    code: 'JOB_NOT_FOUND',
    setup: async () => {
      const project = copyBase()
      return { args: ['audit', '--project', project, '--resume', '997', '--no-progress'], project, names: ['997'] }
    }
  },
  // ── files the CLI reads or writes ──────────────────────────────────────────────────────────────────────────
  {
    name: 'a benchmark config that is not JSON',
    code: 'INVALID_PARAMETERS',
    setup: async () => {
      const config = join(folder('bench'), 'bench.json')
      writeFileSync(config, 'SECRET-BENCH = { not json')
      const out = join(dir.path, `bench-out-${++caseNo}`)
      return { args: ['benchmark', '--config', config, '--out', out, '--no-progress'], names: [config], content: 'SECRET-BENCH', untouchedDir: out }
    }
  },
  {
    name: 'stats --out onto an existing file without --force',
    code: 'CONFLICT',
    setup: async () => {
      const project = copyBase()
      const out = join(folder('stats-out'), 'stats.json')
      writeFileSync(out, 'EXISTING-STATS')
      return { args: ['stats', '--project', project, '--json', '--out', out, '--bootstrap', '10'], project, names: [out], content: 'EXISTING-STATS' }
    }
  },
  {
    name: 'report --out onto an existing file without --force',
    code: 'CONFLICT',
    setup: async () => {
      const project = copyBase()
      const out = join(folder('report-out'), 'report.pdf')
      writeFileSync(out, 'EXISTING-REPORT')
      return { args: ['report', '--project', project, '--out', out, '--no-progress'], project, names: [out], content: 'EXISTING-REPORT' }
    }
  }
]

const started = Date.now()

beforeAll(async () => {
  const { ctx, call } = services()
  const built = await buildAuditProject(dir.path, call)
  await call('project:open', { path: built.path })
  const job = await call('audit:start', { ...auditOptions(built.datasetId, built.modelId), segments: { kinds: ['correct'], sampleSize: 2, seed: 1 }, wait: true })
  // Another network whose classes are named otherwise than the dataset's (other weights, so no CONFLICT).
  await saveChannelModel(join(dir.path, 'renamed'), SIZE, SIZE, [
    { id: 0, name: 'car', color: [0, 0, 142] },
    { id: 1, name: 'sky', color: [70, 130, 180] },
    { id: 2, name: 'vegetation', color: [107, 142, 35] }
  ])
  const renamed = await call('models:add', { dir: join(dir.path, 'renamed') })
  await call('project:close', {})
  ctx.dispose()
  base = { ...built, jobId: job.id, renamedModelId: renamed.id }
}, 180_000)

afterAll(() => {
  console.log(`bad-input corpus: ${cases.length} cases in ${((Date.now() - started) / 1000).toFixed(1)} s (base project included)`)
  dir.cleanup()
})

describe('the bad-input corpus through the CLI', () => {
  it('has at least 25 cases', () => expect(cases.length).toBeGreaterThanOrEqual(25))

  it.concurrent.each(cases.map((c) => [c.name, c] as const))('%s → refused by name, nothing stored changed', async (_, c) => {
    const s = await c.setup()
    let before: string | undefined
    const r = await limited(async () => {
      const release = s.hold?.()
      try {
        // After the hold: a faked job owner is the state the command finds, and must leave as it was.
        before = s.project ? storedChecksum(s.project) : undefined
        return await ctxlens(s.args)
      } finally {
        release?.()
      }
    })
    const what = `${c.name}\n${r.stderr}`
    expect(r.code, what).not.toBe(0)
    expect(r.code, what).not.toBeNull()
    const { code, message } = printedError(r.stderr)
    expect(code, what).toBe(c.code)
    for (const name of s.names) expect(message, what).toContain(name)
    if (s.content) expect(r.stderr + r.stdout, what).not.toContain(s.content)
    expect(r.stderr + r.stdout, what).not.toMatch(/^\s+at /m)
    if (s.project) expect(storedChecksum(s.project), what).toBe(before)
    if (s.untouchedDir) expect(existsSync(s.untouchedDir) ? readdirSync(s.untouchedDir) : [], what).toEqual([])
  }, 180_000)
})
