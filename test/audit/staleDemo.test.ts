import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Input, Method } from '../../src/common/contract'
import { setAsideStaleDemo } from '../../src/main/audit/staleDemo'
import { readSidecar } from '../../src/main/engine/modelFiles'
import { defaultDemoModelDir } from '../../src/main/paths'
import { EventBus } from '../../src/main/services/events'
import { openStartupProject } from '../../src/main/startup'
import { Project } from '../../src/main/store/project'
import { tempDir } from '../helpers/tempdir'
import { saveConvModel } from './fixtures/data'

/**
 * After an update that ships another demo model, the old demo project is kept under a dated name (with what the
 * user added to it) and the demo is built again; a current demo, or a project without the bundled model, is left.
 */
const dir = tempDir()
afterAll(() => dir.cleanup())

function projectWithModel(path: string, modelDir: string, contentHash: string): void {
  mkdirSync(join(path, '..'), { recursive: true })
  const project = Project.create(path, 'Demo')
  project.models.register({ name: 'demo', dir: modelDir, architecture: 'conv', classSetId: null, contentHash, config: {} })
  // Something the user made in the demo, to find again in the kept file.
  project.classSets.create({ name: 'kept', classes: [{ id: 0, name: 'road', color: [128, 64, 128] }] })
  project.close()
}

describe('a demo project built with another bundled model', () => {
  it('is set aside under a dated name, whole, and only when its model files changed', async () => {
    const modelDir = dir.file('model')
    await saveConvModel(modelDir, 8, 8)
    const first = (await readSidecar(modelDir)).contentHash
    const path = dir.file('projects/demo.ctxlens')
    projectWithModel(path, modelDir, first)
    const day = new Date('2026-12-03T10:00:00Z')

    // The files it was built with: current, left in place.
    expect(await setAsideStaleDemo(path, modelDir, day)).toBeNull()
    expect(existsSync(path)).toBe(true)

    // The bundled files replaced by other weights (an update): kept aside, everything in it still there.
    await saveConvModel(modelDir, 8, 16)
    expect((await readSidecar(modelDir)).contentHash).not.toBe(first)
    const kept = await setAsideStaleDemo(path, modelDir, day)
    expect(kept).toBe(dir.file('projects/demo-before-2026-12-03.ctxlens'))
    expect(existsSync(path)).toBe(false)
    const reopened = Project.open(kept!)
    expect(reopened.models.list().map((m) => m.contentHash)).toEqual([first])
    expect(reopened.classSets.get(1)?.name).toBe('kept')
    reopened.close()

    // The same day again: another name, the first kept file untouched.
    projectWithModel(path, modelDir, first)
    expect(await setAsideStaleDemo(path, modelDir, day)).toBe(dir.file('projects/demo-before-2026-12-03-2.ctxlens'))
    expect(existsSync(kept!)).toBe(true)

    // A project without a model from that folder is no demo of it: left alone.
    const other = dir.file('projects/mine.ctxlens')
    projectWithModel(other, dir.file('elsewhere'), first)
    expect(await setAsideStaleDemo(other, modelDir, day)).toBeNull()
    expect(existsSync(other)).toBe(true)
  })

  it('makes the app start build the demo again with the bundled model', async () => {
    const home = dir.file('home')
    const previous = { home: process.env.CTXLENS_HOME, project: process.env.CTXLENS_PROJECT }
    process.env.CTXLENS_HOME = home
    delete process.env.CTXLENS_PROJECT
    try {
      const path = join(home, 'projects', 'demo.ctxlens')
      projectWithModel(path, defaultDemoModelDir(), 'a hash of weights the app no longer ships')
      // The adapter's side of startup: which service it asks for, with what.
      const asked: { method: Method; input: unknown }[] = []
      const dispatch = async <M extends Method>(method: M, input: Input<M>) => {
        asked.push({ method, input })
        return { ok: true as const, result: {} as never }
      }
      const events = new EventBus()
      const logged: string[] = []
      events.subscribe((e) => e.event === 'log' && logged.push(e.payload.message))
      expect(await openStartupProject(dispatch as never, events)).toBe(path)
      expect(asked).toEqual([{ method: 'audit:demo', input: { projectPath: path } }])
      expect(logged.join('\n')).toMatch(/demo model changed .* kept as .*demo-before-\d{4}-\d\d-\d\d\.ctxlens/)
    } finally {
      if (previous.home === undefined) delete process.env.CTXLENS_HOME
      else process.env.CTXLENS_HOME = previous.home
      if (previous.project !== undefined) process.env.CTXLENS_PROJECT = previous.project
    }
  })
})
