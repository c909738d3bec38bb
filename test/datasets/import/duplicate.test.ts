import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImportProgress } from '@common/datasets'
import { isAppError, type AppError } from '@common/errors'
import { importDataset } from '@main/datasets/import'
import { Project } from '@main/store/project'
import { builtCli } from '../../helpers/builtApp'
import { countRows } from '../../helpers/sqliteFile'
import { tempDir } from '../../helpers/tempdir'
import { labelMap, writeFileEnsured, writeGray8, writeRgb } from './fixtures'

const W = 8
const H = 6
const dir = tempDir()
const root = join(dir.path, 'street')
afterAll(() => dir.cleanup())

beforeAll(async () => {
  writeFileEnsured(join(root, 'classes.json'), JSON.stringify({ classes: [{ id: 0, name: 'road', color: [128, 64, 128] }], ignoreIds: [] }))
  for (const [split, name] of [
    ['train', 'a'],
    ['val', 'b']
  ]) {
    await writeRgb(join(root, 'images', split, `${name}.png`), W, H, name.length)
    await writeGray8(join(root, 'labels', split, `${name}.png`), labelMap(W, H, () => 0), W, H)
  }
})

function rows(project: Project): { datasets: number; images: number } {
  return countRows(project.path, ['datasets', 'images'])
}

describe('importing a folder the project already holds', () => {
  it('is refused with CONFLICT naming the dataset that has it, before any file is read', async () => {
    const project = Project.create(dir.file('twice.ctxlens'))
    const first = await importDataset(project, { root, name: 'street scenes' })
    const seen: ImportProgress[] = []
    const err = await importDataset(project, { root }, { onProgress: (p) => seen.push(p) }).catch((e: unknown) => e)
    expect(isAppError(err, 'CONFLICT')).toBe(true)
    expect((err as AppError).message).toMatch(
      new RegExp(`^${root} is already in this project as dataset "street scenes" \\(2 images, imported .+\\); .*--allow-duplicate.*--name`)
    )
    expect((err as AppError).details).toMatchObject({ root, existing: { id: first.dataset.id, name: 'street scenes' } })
    expect(seen).toEqual([])
    expect(rows(project)).toEqual({ datasets: 1, images: 2 })
    // Another split selection of the same folder is another dataset, not a copy.
    expect((await importDataset(project, { root, splits: ['val'] })).imported).toBe(1)
    expect(isAppError(await importDataset(project, { root, splits: ['val'] }).catch((e: unknown) => e), 'CONFLICT')).toBe(true)
    project.close()
  })

  it('with allowDuplicate makes a second dataset, under a free name unless one is given, and says so', async () => {
    const project = Project.create(dir.file('allowed.ctxlens'))
    await importDataset(project, { root })
    const copy = await importDataset(project, { root, allowDuplicate: true })
    expect(copy.dataset.name).toBe('street (2)')
    expect(copy.warnings[0]).toBe(`${root} was already imported as dataset "street"; this is a second copy of it, named "street (2)"`)
    const named = await importDataset(project, { root, allowDuplicate: true, name: 'street, re-labelled' })
    expect(named.dataset.name).toBe('street, re-labelled')
    expect(project.datasets.list().map((d) => d.name)).toEqual(['street', 'street (2)', 'street, re-labelled'])
    project.close()
  })

  it('twice at the same time stores one dataset: the second is refused when it comes to write', async () => {
    const project = Project.create(dir.file('race.ctxlens'))
    const results = await Promise.allSettled([importDataset(project, { root }), importDataset(project, { root })])
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    expect(isAppError((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason, 'CONFLICT')).toBe(true)
    expect(rows(project)).toEqual({ datasets: 1, images: 2 })
    project.close()
  })

  it('from the CLI: refused with the code and the way on, exit 1, no stack; --allow-duplicate --name imports the copy', async () => {
    const cliEntry = builtCli()
    const env = { ...process.env, CTXLENS_BACKEND: 'cpu', CTXLENS_HOME: dir.file('home') }
    const ctxlens = (...args: string[]) => spawnSync(process.execPath, [cliEntry, ...args], { encoding: 'utf8', env })
    const project = dir.file('cli.ctxlens')
    // The first import in-process: each CLI start costs a second or more.
    const store = Project.create(project)
    await importDataset(store, { root })
    store.close()
    const again = ctxlens('import', '--project', project, '--root', root, '--no-progress')
    expect(again.status).toBe(1)
    expect(again.stderr).toMatch(/^ctxlens: error \[CONFLICT\] .* is already in this project as dataset "street" /)
    expect(again.stderr).not.toMatch(/\n\s+at /)
    const copy = ctxlens('import', '--project', project, '--root', root, '--no-progress', '--allow-duplicate', '--name', 'street again')
    expect(copy.status, copy.stderr).toBe(0)
    expect(copy.stdout).toContain('street again')
    expect(copy.stdout).toContain('this is a second copy of it, named "street again"')
  })
})
