// The demo audit as the app builds it, with other saliency parameters, and its Table-1 rows as the acceptance test
// (test/demo/demoAudit.test.ts) reads them: over all explanations and over the recovered ones. BENCHMARKS.md, "The
// recommendation on the whole demo audit". Run in its own app home, e.g.
//   CTXLENS_HOME=/tmp/demo-lam3 npx tsx scripts/demo-with-params.ts '{"lambda":0.003,"learningRate":3}' [MODEL_DIR]
// The parameters go on top of the demo's own (DEMO_SALIENCY_PARAMS over the Cityscapes preset): the preset itself is
// '{"lambda":0.01,"learningRate":1}'. MODEL_DIR (absolute) audits another model folder than resources/demo-model.
import { AppError } from '../src/common/errors'
import { STREET_CLASS, STREET_SCENE_CLASSES } from '../src/common/streetScenes'
import type { Input, Method, Output } from '../src/common/contract'
import type { Table1Row, AuditStats } from '../src/common/audit'
import { ServiceContext } from '../src/main/services/context'
import { createDispatch } from '../src/main/services/dispatch'
import { createServices } from '../src/main/services/index'

const params = JSON.parse(process.argv[2] ?? '{}')
const modelDir = process.argv[3]
process.env.CTXLENS_WORKERS = '2'
const ctx = new ServiceContext('cli', { backend: 'wasm' })
const dispatch = createDispatch(createServices(ctx))
async function call<M extends Method>(m: M, input: Input<M>): Promise<Output<M>> {
  const reply = await dispatch(m, input)
  if (!reply.ok) throw AppError.fromShape(reply.error)
  return reply.result as never
}
const { rider: RIDER, person: PERSON, bicycle: BICYCLE } = STREET_CLASS
const t0 = Date.now()
const demo = await call('audit:demo', { params, ...(modelDir ? { modelDir } : {}) } as never)
console.log(`demo audit ${JSON.stringify(params)}: ${demo.job.state}, ${demo.job.done}/${demo.job.total}, failed ${demo.job.failed}, ${((Date.now() - t0) / 1000).toFixed(0)} s`)
for (const includeUnrecovered of [true, false]) {
  const stats: AuditStats = await call('audit:stats', { jobId: demo.job.id, includeUnrecovered, bootstrap: { samples: 200 } })
  const e = stats.evidence
  console.log(`${includeUnrecovered ? 'ALL explanations' : 'RECOVERED only'}: ${e.recovered} of ${e.total} recovered; mean deletion faithfulness ${e.faithfulness?.mean?.toFixed(3)} (n ${e.faithfulness?.n})`)
  for (const [gt, pred] of [[RIDER, RIDER], [PERSON, PERSON], [RIDER, PERSON], [PERSON, RIDER]]) {
    const r: Table1Row | undefined = stats.table1.find((t) => t.gtClass === gt && t.predClass === pred)
    if (!r) continue
    const dens = Object.entries(r.densities).filter(([, d]) => d !== null) as [string, number][]
    const bike = r.densities[String(BICYCLE)] ?? 0
    const other = dens.filter(([id]) => Number(id) !== BICYCLE).sort((a, b) => b[1] - a[1])[0]
    const name = (id: string) => STREET_SCENE_CLASSES.find((c) => c.id === Number(id))?.name
    console.log(`  ${r.gtName}→${r.predName}: n ${r.explanations} (recovered ${r.evidence.recovered} of ${r.evidence.total}); bicycle ${bike.toFixed(3)}, highest other ${name(other[0])} ${other[1].toFixed(3)}, ratio ${(bike / other[1]).toFixed(2)}×; bicycle share ${(r.shares[String(BICYCLE)] ?? 0).toFixed(3)}`)
  }
}
ctx.dispose()
