import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { isAppError } from '@common/errors'
import { getJob } from '@main/jobs/status'
import { LATEST_SCHEMA_VERSION } from '@main/store/database'
import { decodeMask, encodeMask } from '@main/store/maskCodec'
import { migrations } from '@main/store/migrations'
import { Project } from '@main/store/project'
import { readSqliteFile } from '../helpers/sqliteFile'
import { tempDir } from '../helpers/tempdir'

const dir = tempDir()
afterAll(() => dir.cleanup())

const classes = [
  { id: 0, name: 'road', color: [128, 64, 128] as [number, number, number] },
  { id: 1, name: 'rider', color: [255, 0, 0] as [number, number, number] }
]

function seed(project: Project) {
  const classSet = project.classSets.create({ name: 'street', classes, ignoreIds: [255] })
  const dataset = project.datasets.createWithImages({ name: 'demo', format: 'folder', root: '/data', classSetId: classSet.id }, [
    { path: 'a.png', labelPath: 'a_label.png', width: 4, height: 2, split: 'train', contentHash: 'h1' },
    { path: 'b.png', labelPath: 'b_label.png', width: 4, height: 2, split: 'val', contentHash: 'h2' }
  ])
  const model = project.models.register({ name: 'unet', dir: '/m', architecture: 'unet-vgg', classSetId: classSet.id, contentHash: 'abc', config: { width: 1 } })
  return { classSet, dataset, model, images: project.datasets.images(dataset.id) }
}

describe('project store', () => {
  it('creates a WAL database with foreign keys on and the latest schema version', () => {
    const project = Project.create(dir.file('new.ctxlens'), 'Audit A')
    // WAL is recorded in the file; foreign keys are a setting of the project's own connection, seen by what it refuses.
    expect(readSqliteFile(project.path, (db) => db.pragma('journal_mode', { simple: true }))).toBe('wal')
    expect(() => project.datasets.createWithImages({ name: 'orphan', format: 'folder', root: '/o', classSetId: 999 }, [])).toThrow(/FOREIGN KEY constraint failed/)
    expect(project.datasets.list()).toEqual([])
    expect(project.schemaVersion).toBe(LATEST_SCHEMA_VERSION)
    expect(project.summary().name).toBe('Audit A')
    project.close()
  })

  it('refuses to create over an existing file and to open a missing one', () => {
    const path = dir.file('exists.ctxlens')
    Project.create(path).close()
    expect(() => Project.create(path)).toThrow(/already exists/)
    try {
      Project.open(dir.file('missing.ctxlens'))
      expect.unreachable()
    } catch (err) {
      expect(isAppError(err, 'PROJECT_OPEN_FAILED')).toBe(true)
    }
  })

  it('refuses a file that is not SQLite with a specific error', () => {
    const path = dir.file('garbage.ctxlens')
    writeFileSync(path, 'this is not a database, just text that happens to be long enough to look like a header'.repeat(20))
    try {
      Project.open(path)
      expect.unreachable()
    } catch (err) {
      expect(isAppError(err, 'PROJECT_OPEN_FAILED')).toBe(true)
    }
  })

  describe('opening a file that is not a project leaves it byte-for-byte unchanged', () => {
    const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')
    function expectRefusedUntouched(path: string) {
      const before = sha256(path)
      try {
        Project.open(path)
        expect.unreachable()
      } catch (err) {
        expect(isAppError(err, 'PROJECT_OPEN_FAILED')).toBe(true)
        expect((err as Error).message).toContain(path)
        expect((err as Error).message).toMatch(/not a Context Lens project/)
      }
      expect(sha256(path)).toBe(before)
      // No journal files left beside it either: nothing was written.
      expect(existsSync(`${path}-wal`)).toBe(false)
      expect(existsSync(`${path}-journal`)).toBe(false)
    }

    it('a foreign SQLite database (rollback journal, even with a user_version of its own)', () => {
      const path = dir.file('foreign.sqlite')
      const raw = new Database(path)
      raw.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada')")
      raw.pragma('user_version = 3')
      raw.close()
      expectRefusedUntouched(path)
      const reread = new Database(path, { readonly: true })
      expect(reread.pragma('journal_mode', { simple: true })).toBe('delete')
      expect(reread.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([{ name: 'customers' }])
      reread.close()
    })

    it('a 0-byte file', () => {
      const path = dir.file('empty.ctxlens')
      writeFileSync(path, '')
      expectRefusedUntouched(path)
      expect(readFileSync(path).length).toBe(0)
    })

    it('a text file', () => {
      const path = dir.file('notes.txt')
      writeFileSync(path, 'these are my notes, not a project\n'.repeat(40))
      expectRefusedUntouched(path)
    })

    it('an SQLite file holding a table called project_meta but no project schema version', () => {
      const path = dir.file('lookalike.sqlite')
      const raw = new Database(path)
      raw.exec('CREATE TABLE project_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)')
      raw.close()
      expectRefusedUntouched(path)
    })
  })

  it('still opens a project written at schema version 1 by an older app, without rewriting it first', () => {
    const path = dir.file('v1.ctxlens')
    // What the first release wrote: migration 1, user_version 1, WAL, name and created_at in project_meta.
    const raw = new Database(path)
    raw.pragma('journal_mode = WAL')
    raw.transaction(() => {
      migrations[0].up(raw)
      raw.pragma('user_version = 1')
    })()
    raw.prepare("INSERT INTO project_meta (key, value) VALUES ('name', 'Demo'), ('created_at', '2024-01-01T00:00:00.000Z')").run()
    raw.close()
    const project = Project.open(path)
    expect(project.summary()).toMatchObject({ name: 'Demo', schemaVersion: LATEST_SCHEMA_VERSION })
    project.close()
  })

  it('refuses a project written by a newer app instead of migrating it backwards', () => {
    const path = dir.file('future.ctxlens')
    Project.create(path).close()
    const raw = new Database(path)
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`)
    raw.close()
    try {
      Project.open(path)
      expect.unreachable()
    } catch (err) {
      expect(isAppError(err, 'PROJECT_SCHEMA_TOO_NEW')).toBe(true)
    }
  })

  it('stores datasets, images, models, predictions, segments and explanations and reads them back', () => {
    const project = Project.create(dir.file('full.ctxlens'))
    const { dataset, model, images } = seed(project)
    expect(dataset.imageCount).toBe(2)
    expect(dataset.splits).toEqual({ train: 1, val: 1 })
    expect(project.models.register({ ...model, config: {} }).id).toBe(model.id) // same hash, same model

    const labelMap = new Uint16Array([0, 0, 1, 1, 0, 1, 1, 1])
    const confidence = new Float32Array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    project.predictions.upsert({ modelId: model.id, imageId: images[0].id, labelMap, confidence })
    const pred = project.predictions.get(model.id, images[0].id)!
    expect(Array.from(pred.labelMap)).toEqual(Array.from(labelMap))
    expect(Array.from(pred.confidence)).toEqual(Array.from(confidence))

    const mask = new Uint8Array([0, 0, 1, 1, 0, 1, 1, 1])
    const [segId] = project.segments.insertMany([
      { imageId: images[0].id, modelId: model.id, source: 'gt-and-predicted', gtClass: 1, predClass: 1, kind: 'correct', area: 5, bbox: [1, 0, 3, 2], mask }
    ])
    expect(Array.from(project.segments.mask(segId)!)).toEqual(Array.from(mask))
    expect(project.segments.get(segId)!.bbox).toEqual([1, 0, 3, 2])

    const saliency = new Float32Array([0.1, 0.2, 0.3, 0.4])
    const explId = project.explanations.insert({
      imageId: images[0].id,
      modelId: model.id,
      segmentId: segId,
      method: 'context',
      classId: 1,
      request: mask,
      params: { steps: 100 },
      saliency,
      saliencyHeight: 2,
      saliencyWidth: 2,
      summary: { recovered: true }
    })
    const expl = project.explanations.get(explId)!
    expect(Array.from(expl.saliency)).toEqual(Array.from(saliency))
    expect(Array.from(expl.request)).toEqual(Array.from(mask))
    expect(expl.summary).toEqual({ recovered: true })
    expect(project.explanations.imageId(explId)).toBe(images[0].id)
    expect(project.explanations.imageId(explId + 1)).toBeNull()
    project.close()
  })

  it('stores prediction planes compressed, bit for bit, and still reads rows stored raw', () => {
    const project = Project.create(dir.file('planes.ctxlens'))
    const { model, images } = seed(project)
    const n = 512 * 256
    // Class regions as a model paints them, and probabilities that vary smoothly with odd values mixed in.
    const labelMap = new Uint16Array(n).map((_, i) => ((i % 512) >> 6) + (i >= n / 2 ? 300 : 0))
    const confidence = new Float32Array(n).map((_, i) => 0.5 + 0.5 * Math.sin(i / 997))
    confidence[7] = -0
    confidence[8] = 1e-40
    project.predictions.upsert({ modelId: model.id, imageId: images[0].id, labelMap, confidence })
    const pred = project.predictions.get(model.id, images[0].id)!
    expect(Buffer.from(pred.labelMap.buffer).equals(Buffer.from(labelMap.buffer))).toBe(true)
    expect(Buffer.from(pred.confidence.buffer).equals(Buffer.from(confidence.buffer))).toBe(true)
    expect(Array.from(project.predictions.labelMap(model.id, images[0].id)!)).toEqual(Array.from(labelMap))
    const db = new Database(project.path, { readonly: true })
    const sizes = db.prepare('SELECT length(label_map) AS labels, length(confidence) AS conf FROM predictions').get() as { labels: number; conf: number }
    expect(sizes.labels).toBeLessThan(labelMap.byteLength / 50)
    expect(sizes.conf).toBeLessThan(confidence.byteLength)

    // A row from before the codec: the raw planes.
    const raw = new Uint16Array([0, 1, 1, 0, 1, 1, 1, 0])
    const rawConf = new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    const rw = new Database(project.path)
    rw.prepare('INSERT INTO predictions (model_id, image_id, label_map, confidence) VALUES (?, ?, ?, ?)').run(model.id, images[1].id, Buffer.from(raw.buffer), Buffer.from(rawConf.buffer))
    rw.close()
    db.close()
    const old = project.predictions.get(model.id, images[1].id)!
    expect(Array.from(old.labelMap)).toEqual(Array.from(raw))
    expect(Array.from(old.confidence)).toEqual(Array.from(rawConf))
    project.close()
  })

  it('rejects rows that break foreign keys', () => {
    const project = Project.create(dir.file('fk.ctxlens'))
    expect(() => project.predictions.upsert({ modelId: 99, imageId: 99, labelMap: new Uint16Array(1), confidence: new Float32Array(1) })).toThrow(
      /FOREIGN KEY/
    )
    project.close()
  })

  it('keeps bookmarks and notes on existing targets only, without duplicates', () => {
    const project = Project.create(dir.file('bm.ctxlens'))
    const { images } = seed(project)
    const b1 = project.bookmarks.add({ targetKind: 'image', targetId: images[0].id, title: 'odd rider', tags: ['rider', 'rider', 'night'] })
    expect(b1.tags).toEqual(['rider', 'night'])
    const b2 = project.bookmarks.add({ targetKind: 'image', targetId: images[0].id, title: 'renamed', tags: [] })
    expect(b2.id).toBe(b1.id)
    expect(project.bookmarks.list()).toHaveLength(1)
    expect(() => project.bookmarks.add({ targetKind: 'segment', targetId: 12345, title: '', tags: [] })).toThrow(/No segment with id 12345/)
    project.notes.add({ targetKind: 'image', targetId: images[0].id, body: 'bicycle hidden behind car' })
    expect(project.notes.list('image', images[0].id).map((n) => n.body)).toEqual(['bicycle hidden behind car'])
    project.close()
  })

  it('derives job progress from its items and records per-item failures', () => {
    const project = Project.create(dir.file('jobs.ctxlens'))
    const job = project.jobs.create('audit', { method: 'context' }, ['a', 'b', 'c'])
    expect(job).toMatchObject({ state: 'queued', total: 3, done: 0, failed: 0 })
    project.jobs.setState(job.id, 'running')
    project.jobs.completeItem(job.id, 'a', () => undefined)
    project.jobs.failItem(job.id, 'b', 'IMAGE_UNREADABLE', 'cannot decode b.png')
    expect(project.jobs.get(job.id)).toMatchObject({ done: 1, failed: 1 })
    expect(project.jobs.pendingItems(job.id)).toEqual(['c'])
    expect(project.jobs.failures(job.id)).toEqual([{ itemKey: 'b', code: 'IMAGE_UNREADABLE', message: 'cannot decode b.png' }])
    project.close()
    // A job whose row says running but that no process holds (its process died) reads as interrupted, ready to
    // resume; opening the file does not rewrite it, since another process might own it.
    const reopened = Project.open(dir.file('jobs.ctxlens'))
    expect(reopened.jobs.get(job.id)!.state).toBe('running')
    expect(getJob(reopened, job.id)!.state).toBe('interrupted')
    reopened.close()
  })

  it('rolls back a job item whose result could not be stored', () => {
    const project = Project.create(dir.file('jobs2.ctxlens'))
    const job = project.jobs.create('audit', {}, ['x'])
    expect(() =>
      project.jobs.completeItem(job.id, 'x', () => {
        throw new Error('disk full')
      })
    ).toThrow('disk full')
    expect(project.jobs.pendingItems(job.id)).toEqual(['x'])
    project.close()
  })

  it('commits the repository calls of one transaction together or not at all, and keeps its connection to itself', () => {
    const project = Project.create(dir.file('tx.ctxlens'))
    const classSet = project.classSets.create({ name: 'street', classes })
    const dataset = (name: string) => project.datasets.createWithImages({ name, format: 'folder', root: `/${name}`, classSetId: classSet.id }, [])
    expect(() =>
      project.transaction(() => {
        dataset('rolled back')
        project.bookmarks.add({ targetKind: 'image', targetId: 12345, title: 'no such image', tags: [] })
      })
    ).toThrow(/No image with id 12345/)
    expect(project.transaction(() => dataset('kept').name)).toBe('kept')
    expect(readSqliteFile(project.path, (db) => db.prepare('SELECT name FROM datasets').pluck().all())).toEqual(['kept'])
    // Sealed: nothing outside the store reaches SQLite through the project, not even past the type checker.
    expect('db' in project).toBe(false)
    expect(project.isOpen).toBe(true)
    project.close()
    expect(project.isOpen).toBe(false)
  })
})

describe('mask run-length codec', () => {
  it('round-trips masks that start and end with either value', () => {
    for (const bits of [[0, 0, 1, 1, 0], [1, 1, 1], [0], [1], [], [1, 0, 1, 0, 1, 0]]) {
      const mask = new Uint8Array(bits)
      expect(Array.from(decodeMask(encodeMask(mask)))).toEqual(bits)
    }
  })

  it('stays small for a mostly empty mask', () => {
    const mask = new Uint8Array(1024 * 2048)
    mask.fill(1, 5000, 6000)
    expect(encodeMask(mask).length).toBeLessThan(32)
  })
})
