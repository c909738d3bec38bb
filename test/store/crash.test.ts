import { spawn } from 'node:child_process'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Project } from '@main/store/project'
import { readSqliteFile } from '../helpers/sqliteFile'
import { tempDir } from '../helpers/tempdir'

const dir = tempDir()
afterAll(() => dir.cleanup())

function runUntil(path: string, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'killedWriter.ts'), path], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes(marker)) child.kill('SIGKILL')
    })
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer ended without being killed: ${err || out}`))))
  })
}

describe('crash safety', () => {
  it('a process killed inside a write transaction leaves no corruption and no half-written rows', async () => {
    const path = dir.file('crash.ctxlens')
    await runUntil(path, 'in-transaction')
    // The uncommitted transaction really reached the disk (spilled into the WAL) before the kill.
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(1_000_000)

    const project = Project.open(path)
    readSqliteFile(path, (db) => {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
      expect(db.pragma('foreign_key_check')).toEqual([])
      expect((db.prepare('SELECT COUNT(*) AS n FROM images').get() as { n: number }).n).toBe(1)
    })
    const names = project.datasets.list().map((d) => d.name)
    expect(names).toEqual(['committed'])
    // And the file still takes writes.
    project.bookmarks.add({ targetKind: 'image', targetId: project.datasets.images(project.datasets.list()[0].id)[0].id, title: 'after crash', tags: [] })
    expect(project.bookmarks.list()).toHaveLength(1)
    project.close()
  })
})
