import { afterAll, describe, expect, it } from 'vitest'
import type { AuditStats, Table1Row } from '../../src/common/audit'
import { AppError } from '../../src/common/errors'
import { STREET_CLASS, STREET_SCENE_CLASSES } from '../../src/common/streetScenes'
import type { Input, Method, Output } from '../../src/common/contract'
import { ServiceContext } from '../../src/main/services/context'
import { createDispatch } from '../../src/main/services/dispatch'
import { createServices } from '../../src/main/services/index'
import { tempDir } from '../helpers/tempdir'

/**
 * Issue 6's acceptance on the real demo: the bundled model, the generated street scenes and the demo's own audit
 * settings (context saliency, the Cityscapes preset's 16×32 mask and 80 steps, up to 60 segments per GT/predicted
 * pair), judged through the statistics every user sees. What the model needs to tell a rider from a person is the
 * bicycle; the generator plants nothing that would make this test pass otherwise.
 */
const dir = tempDir()
const previousHome = process.env.CTXLENS_HOME
const previousWorkers = process.env.CTXLENS_WORKERS
process.env.CTXLENS_HOME = dir.path
// The wasm engine on both cores: the plain CPU backend would take far longer for the ~190 optimisations.
process.env.CTXLENS_WORKERS = '2'
const ctx = new ServiceContext('cli', { backend: 'wasm' })
const dispatch = createDispatch(createServices(ctx))
async function call<M extends Method>(m: M, input: Input<M>): Promise<Output<M>> {
  const reply = await dispatch(m, input)
  if (!reply.ok) throw AppError.fromShape(reply.error)
  return reply.result as never
}

afterAll(() => {
  ctx.dispose()
  if (previousHome === undefined) delete process.env.CTXLENS_HOME
  else process.env.CTXLENS_HOME = previousHome
  if (previousWorkers === undefined) delete process.env.CTXLENS_WORKERS
  else process.env.CTXLENS_WORKERS = previousWorkers
  dir.cleanup()
})

const { rider: RIDER, person: PERSON, bicycle: BICYCLE } = STREET_CLASS
const row = (stats: AuditStats, gt: number, pred: number): Table1Row => {
  const r = stats.table1.find((t) => t.gtClass === gt && t.predClass === pred)
  if (!r) throw new Error(`no Table-1 row ${gt}→${pred}: ${stats.table1.map((t) => `${t.gtName}→${t.predName}`).join(', ')}`)
  return r
}
/** Highest density among the context classes other than `k`. */
const otherMax = (r: Table1Row, k: number): number =>
  Math.max(...Object.entries(r.densities).filter(([id, d]) => Number(id) !== k && d !== null).map(([, d]) => d!))

describe('demo audit (bundled model, real context saliency)', () => {
  it('bicycle is what correct riders lean on, not persons; riders taken for persons lack it', { timeout: 30 * 60_000 }, async () => {
    const demo = await call('audit:demo', {})
    expect(demo.job.state).toBe('done')
    expect(demo.job.failed).toBe(0)
    // Issue 6's acceptance was set on all explanations. Since issue 16 the statistics count recovered ones only by
    // default, and on the demo's defaults that leaves 38 correct riders whose bicycle density is 2.94x the next
    // class (road), under the 3x asked: measured 2026-12-02, printed below on every run. Until the demo's recovery
    // (issue 16 items 1 and 5) lifts that above 3x, the acceptance is judged on all explanations, as it was set.
    const stats = await call('audit:stats', { jobId: demo.job.id, includeUnrecovered: true, bootstrap: { samples: 200 } })
    expect(stats.options.context).toBe('outside-object')
    const recoveredOnly = await call('audit:stats', { jobId: demo.job.id, bootstrap: { samples: 200 } })

    const riders = row(stats, RIDER, RIDER)
    const persons = row(stats, PERSON, PERSON)
    const ridersAsPersons = row(stats, RIDER, PERSON)
    expect(riders.explanations).toBeGreaterThanOrEqual(30)
    expect(persons.explanations).toBeGreaterThanOrEqual(30)
    expect(ridersAsPersons.explanations).toBeGreaterThanOrEqual(3)

    const bike = (r: Table1Row): number => r.densities[String(BICYCLE)] ?? 0
    const report = (r: Table1Row) =>
      `${r.gtName}→${r.predName} (${r.explanations}): ` +
      STREET_SCENE_CLASSES.map((c) => `${c.name} ${(r.densities[String(c.id)] ?? NaN).toFixed(3)}`).join(', ')
    console.log([riders, persons, ridersAsPersons].map(report).join('\n'))
    const evidence = (r: Table1Row) => `${r.gtName}→${r.predName}: ${r.evidence.recovered} of ${r.evidence.total} recovered`
    console.log(`All explanations counted; recovered only:\n${[RIDER, PERSON].flatMap((gt) => recoveredOnly.table1.filter((r) => r.gtClass === gt)).map((r) => `${report(r)} [${evidence(r)}]`).join('\n')}`)
    // The recovered-only rows rest on the same explanations, fewer of them.
    for (const r of [riders, persons, ridersAsPersons]) {
      const only = row(recoveredOnly, r.gtClass, r.predClass)
      expect(only.evidence.total).toBe(r.explanations)
      expect(only.explanations).toBe(r.evidence.recovered)
    }

    // Correct riders: bicycle has the highest saliency density of all context classes, at least 3× any other.
    expect(bike(riders)).toBeGreaterThanOrEqual(3 * otherMax(riders, BICYCLE))
    // Persons: no such standing for bicycle.
    expect(bike(persons)).toBeLessThan(3 * otherMax(persons, BICYCLE))
    expect(bike(persons)).toBeLessThan(bike(riders) / 3)
    // Riders predicted as persons: less bicycle weight than correct riders, in density and in share.
    expect(bike(ridersAsPersons)).toBeLessThan(bike(riders))
    expect(ridersAsPersons.shares[String(BICYCLE)]).toBeLessThan(riders.shares[String(BICYCLE)])
  })
})
