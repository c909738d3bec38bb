import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImportProgress } from '@common/datasets'
import { isAppError } from '@common/errors'
import { importDataset } from '@main/datasets/import'
import { Project } from '@main/store/project'
import { countRows, execInSqliteFile } from '../../helpers/sqliteFile'
import { tempDir } from '../../helpers/tempdir'
import { labelMap, writeGray8, writeRgb } from './fixtures'

const W = 16
const H = 8
const dir = tempDir()
const root = join(dir.path, 'cs')
let n = 0

async function addPair(split: string, name: string, label: number[] = labelMap(W, H, () => 7), labelSize = W): Promise<void> {
  await writeRgb(join(root, 'leftImg8bit', split, 'ulm', `${name}_leftImg8bit.png`), W, H, n++)
  await writeGray8(join(root, 'gtFine', split, 'ulm', `${name}_gtFine_labelIds.png`), label, labelSize, H)
}

beforeAll(async () => {
  for (let i = 0; i < 5; i++) await addPair('train', `ulm_00000${i}_000019`)
})
afterAll(() => dir.cleanup())

function rows(project: Project): Record<string, number> {
  return countRows(project.path, ['datasets', 'images', 'class_sets'])
}
const EMPTY = { datasets: 0, images: 0, class_sets: 0 }

describe('an import that fails part-way stores nothing', () => {
  it('when onProgress throws after some images were read', async () => {
    const project = Project.create(dir.file('throw.ctxlens'))
    const seen: ImportProgress[] = []
    const err = await importDataset(
      project,
      { root },
      {
        onProgress: (p) => {
          seen.push(p)
          if (p.phase === 'read' && p.done === 3) throw new Error('listener exploded')
        }
      }
    ).catch((e: unknown) => e)
    expect((err as Error).message).toBe('listener exploded')
    expect(seen.filter((p) => p.phase === 'read').length).toBeGreaterThanOrEqual(3)
    expect(rows(project)).toEqual(EMPTY)
    project.close()
  })

  it('when the signal is aborted mid-way, with CANCELLED', async () => {
    const project = Project.create(dir.file('abort.ctxlens'))
    const controller = new AbortController()
    const err = await importDataset(project, { root }, { signal: controller.signal, onProgress: (p) => p.done === 2 && controller.abort() }).catch((e: unknown) => e)
    expect(isAppError(err, 'CANCELLED')).toBe(true)
    expect(rows(project)).toEqual(EMPTY)
    project.close()
  })

  it('when the database write itself fails half-way through the images (class set rolled back too)', async () => {
    const project = Project.create(dir.file('dbfail.ctxlens'))
    execInSqliteFile(project.path, `CREATE TRIGGER fail_third BEFORE INSERT ON images WHEN (SELECT COUNT(*) FROM images) >= 2
                                    BEGIN SELECT RAISE(ABORT, 'disk full'); END`)
    await expect(importDataset(project, { root })).rejects.toThrow(/disk full/)
    expect(rows(project)).toEqual(EMPTY)
    project.close()
  })

  it('when every pair is broken: DATASET_INVALID with the per-kind counts, and no empty dataset', async () => {
    const brokenRoot = join(dir.path, 'broken')
    await writeRgb(join(brokenRoot, 'leftImg8bit', 'val', 'ulm', 'ulm_000100_000019_leftImg8bit.png'), W, H, 1)
    await writeGray8(join(brokenRoot, 'gtFine', 'val', 'ulm', 'ulm_000100_000019_gtFine_labelIds.png'), labelMap(8, H, () => 7), 8, H)
    await writeRgb(join(brokenRoot, 'leftImg8bit', 'val', 'ulm', 'ulm_000101_000019_leftImg8bit.png'), W, H, 2)
    const project = Project.create(dir.file('broken.ctxlens'))
    const err = await importDataset(project, { root: brokenRoot }).catch((e: unknown) => e)
    expect(isAppError(err, 'DATASET_INVALID')).toBe(true)
    const details = (err as { details: { errors: Record<string, { count: number; files: string[] }> } }).details
    expect(details.errors.LABEL_SIZE_MISMATCH).toEqual({ count: 1, files: ['gtFine/val/ulm/ulm_000100_000019_gtFine_labelIds.png'] })
    expect(details.errors.LABEL_MISSING.count).toBe(1)
    expect(rows(project)).toEqual(EMPTY)
    project.close()
  })

  it('rejects bad options and unknown layouts before touching anything', async () => {
    const project = Project.create(dir.file('opts.ctxlens'))
    expect(isAppError(await importDataset(project, { root: '', format: 'voc' }).catch((e: unknown) => e), 'INVALID_PARAMETERS')).toBe(true)
    expect(isAppError(await importDataset(project, { root, format: 'coco' as never }).catch((e: unknown) => e), 'INVALID_PARAMETERS')).toBe(true)
    expect(isAppError(await importDataset(project, { root: dir.path }).catch((e: unknown) => e), 'DATASET_INVALID')).toBe(true)
    expect(rows(project)).toEqual(EMPTY)
    project.close()
  })

  it('and the same folder imports cleanly afterwards, reporting progress for every image', async () => {
    const project = Project.create(dir.file('ok.ctxlens'))
    const seen: ImportProgress[] = []
    const report = await importDataset(project, { root }, { onProgress: (p) => seen.push(p) })
    expect(report.imported).toBe(5)
    expect(seen.filter((p) => p.phase === 'read').map((p) => p.done)).toEqual([1, 2, 3, 4, 5])
    expect(seen.at(-1)).toMatchObject({ phase: 'store', total: 5 })
    expect(rows(project)).toEqual({ datasets: 1, images: 5, class_sets: 1 })
    project.close()
  })
})
