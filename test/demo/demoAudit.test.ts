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
 * settings (context saliency, the Cityscapes preset's 16×32 mask and 80 steps with DEMO_SALIENCY_PARAMS, up to 150
 * segments per GT/predicted pair), judged through the statistics every user sees. What the model needs to tell a rider from a person is the
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
    // The statistics every user sees: recovered explanations only (issue 16). The demo's saliency settings
    // (DEMO_SALIENCY_PARAMS) recover the model's score for nearly all of them, so this rests on most of the sample.
    const stats = await call('audit:stats', { jobId: demo.job.id, bootstrap: { samples: 200 } })
    expect(stats.options.context).toBe('outside-object')
    expect(stats.options.includeUnrecovered).toBe(false)
    const all = await call('audit:stats', { jobId: demo.job.id, includeUnrecovered: true, bootstrap: { samples: 200 } })

    const riders = row(stats, RIDER, RIDER)
    const persons = row(stats, PERSON, PERSON)
    const ridersAsPersons = row(stats, RIDER, PERSON)
    // Recovery, measured 2026-12-03 (BENCHMARKS.md, "The retrained demo model"): 353 of 373 explanations, correct
    // riders 131 of 150, correct persons 149 of 150; the preset's λ 0.01 and lr 1 recover 191 of 373.
    expect(stats.evidence.recovered).toBeGreaterThanOrEqual(0.9 * stats.evidence.total)
    expect(riders.evidence.recovered).toBeGreaterThanOrEqual(0.8 * riders.evidence.total)
    expect(persons.evidence.recovered).toBeGreaterThanOrEqual(0.9 * persons.evidence.total)
    expect(riders.explanations).toBeGreaterThanOrEqual(100)
    expect(persons.explanations).toBeGreaterThanOrEqual(100)
    expect(ridersAsPersons.explanations).toBeGreaterThanOrEqual(3)

    const bike = (r: Table1Row): number => r.densities[String(BICYCLE)] ?? 0
    const report = (r: Table1Row) =>
      `${r.gtName}→${r.predName} (${r.explanations} of ${r.evidence.total} recovered): ` +
      STREET_SCENE_CLASSES.map((c) => `${c.name} ${(r.densities[String(c.id)] ?? NaN).toFixed(3)}`).join(', ')
    console.log(`Recovered only:\n${[riders, persons, ridersAsPersons].map(report).join('\n')}`)
    console.log(`Bicycle over the next class in correct riders: ${(bike(riders) / otherMax(riders, BICYCLE)).toFixed(2)}x recovered only, ` +
      `${(bike(row(all, RIDER, RIDER)) / otherMax(row(all, RIDER, RIDER), BICYCLE)).toFixed(2)}x all explanations`)
    // The recovered-only rows rest on the same explanations, fewer of them.
    for (const r of [riders, persons, ridersAsPersons]) {
      const counted = row(all, r.gtClass, r.predClass)
      expect(counted.explanations).toBe(r.evidence.total)
      expect(r.explanations).toBe(r.evidence.recovered)
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
