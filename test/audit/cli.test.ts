import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STATS_CSV_COLUMNS, parseCsv } from '../../src/main/audit/export'
import { builtCli } from '../helpers/builtApp'
import { tempDir } from '../helpers/tempdir'
import { blockImage, saveConvModel, writeFolderDataset } from './fixtures/data'
import { SIZE } from './fixtures/project'
import { services } from './helpers'

/** `ctxlens models add`, `predict`, `audit` (and `--resume`) and `stats --csv` as a user runs them (JSON export: stats.test.ts). */
const dir = tempDir()
const cliEntry = builtCli()
const project = dir.file('cli.ctxlens')
const renamedProject = dir.file('renamed.ctxlens')
let datasetId = 0
let renamedDatasetId = 0

function ctxlens(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
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

beforeAll(async () => {
  await writeFolderDataset(
    join(dir.path, 'data'),
    SIZE,
    SIZE,
    [0, 1, 2].map((i) => blockImage(`im${i}`, SIZE, SIZE, 4, 300 + i))
  )
  await saveConvModel(join(dir.path, 'model'), SIZE, SIZE)
  // The project and its dataset are set up in-process; everything under test runs through the CLI.
  const { ctx, call } = services()
  await call('project:create', { path: project })
  datasetId = (await call('datasets:import', { root: join(dir.path, 'data'), format: 'folder' })).dataset.id
  // The same network described with class names of its own, in a project of its own (one description per weights).
  await saveConvModel(join(dir.path, 'model-renamed'), SIZE, SIZE, [
    { id: 0, name: 'car', color: [0, 0, 142] },
    { id: 1, name: 'sky', color: [70, 130, 180] },
    { id: 2, name: 'vegetation', color: [107, 142, 35] }
  ])
  await call('project:create', { path: renamedProject })
  renamedDatasetId = (await call('datasets:import', { root: join(dir.path, 'data'), format: 'folder' })).dataset.id
  ctx.dispose()
})
afterAll(() => dir.cleanup())

describe('ctxlens predict, audit, stats', () => {
  it('runs the whole audit from the shell', async () => {
    const added = await ctxlens('models', 'add', '--project', project, '--model', join(dir.path, 'model'), '--json')
    expect(added.code, added.stderr).toBe(0)
    const modelId = JSON.parse(added.stdout).id as number

    const predicted = await ctxlens('predict', '--project', project, '--dataset', String(datasetId), '--model', String(modelId), '--json')
    expect(predicted.code, predicted.stderr).toBe(0)
    const report = JSON.parse(predicted.stdout)
    expect(report.predicted).toBe(3)
    expect(report.perClass).toHaveLength(3)

    const audited = await ctxlens(
      'audit', '--project', project, '--dataset', String(datasetId), '--model', String(modelId),
      '--preset', 'synthetic', '--mask-size', '4x4', '--steps', '3', '--classes', 'red,green,blue', '--sample', '4', '--seed', '2', '--json'
    )
    expect(audited.code, audited.stderr).toBe(0)
    const job = JSON.parse(audited.stdout)
    expect(job).toMatchObject({ state: 'done', total: 4, done: 4, failed: 0 })

    // Resuming a finished job is a no-op that says so.
    const resumed = await ctxlens('audit', '--project', project, '--resume', String(job.id), '--json')
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(JSON.parse(resumed.stdout)).toMatchObject({ id: job.id, state: 'done', done: 4 })

    const csv = await ctxlens('stats', '--project', project, '--csv', '--bootstrap', '20')
    expect(csv.code, csv.stderr).toBe(0)
    const rows = parseCsv(csv.stdout)
    expect(rows[0]).toEqual([...STATS_CSV_COLUMNS])
    const col = (name: (typeof STATS_CSV_COLUMNS)[number]) => STATS_CSV_COLUMNS.indexOf(name)
    const shares = rows.filter((r) => r[col('section')] === 'context')
    expect(shares.length).toBeGreaterThan(0)
    // Per requested class the shares form a distribution, where any explanation counts (a class none of whose few
    // 3-step explanations recovered has none by default).
    const byClass = new Map<string, number>()
    for (const r of shares) if (Number(r[col('explanations')]) > 0) byClass.set(r[col('requested_class')], (byClass.get(r[col('requested_class')]) ?? 0) + Number(r[col('share')]))
    for (const total of byClass.values()) expect(total).toBeCloseTo(1, 6)
    expect(rows.slice(1).every((r) => r[col('recovered')] !== '' && r[col('not_recovered')] !== '')).toBe(true)

    // Class names are checked against the dataset's classes (through the service, as the app does).
    const unknownClass = await ctxlens('audit', '--project', project, '--dataset', String(datasetId), '--model', String(modelId), '--classes', 'red,purple')
    expect(unknownClass.code).toBe(1)
    expect(unknownClass.stderr).toContain('unknown class "purple" (known: red, green, blue)')
    const unknownDataset = await ctxlens('audit', '--project', project, '--dataset', '99', '--model', String(modelId), '--classes', 'red')
    expect(unknownDataset.code).toBe(1)
    expect(unknownDataset.stderr).toContain('No dataset with id 99')

    const bad = await ctxlens('audit', '--project', project, '--resume', '999')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('JOB_NOT_FOUND')
  })

  // The refusal without a map is tested in-process (classMapping.test.ts); here the flag's two spellings.
  it('predict maps a model whose classes are not the dataset\'s with --class-map pairs and a file, and says so', async () => {
    const model = join(dir.path, 'model-renamed')
    const mapFile = dir.file('map.json')
    writeFileSync(mapFile, JSON.stringify({ vegetation: 'blue' }))
    const mapped = await ctxlens(
      'predict', '--project', renamedProject, '--dataset', String(renamedDatasetId), '--model', model, '--no-progress',
      '--class-map', 'car=red, sky=green', '--class-map', mapFile
    )
    expect(mapped.code, mapped.stderr).toBe(0)
    expect(mapped.stdout).toContain('Model classes mapped by the class map given: car (model 0) → red (dataset 0), sky (model 1) → green (dataset 1), vegetation (model 2) → blue (dataset 2)')
    expect(mapped.stdout).toContain('Predicted 3 images')
  })
})
