import { Command } from 'commander'
import type { AuditStats, BiasAlert } from '@common/audit'
import { evidenceText, exampleLabel, partialText, percent, rankAlerts } from '@common/charts'
import { table } from '../output'
import type { CommandContext } from '../program'
import { pathArg, positiveInt } from '../argParsers'
import { addStatsOptions, statsInput, type StatsCliOptions } from '../optionSets'

const f2 = (v: number | null): string => (v === null ? '-' : v.toFixed(2))

function printAlert(a: BiasAlert, level: number): void {
  const what = a.reason === 'share' ? `share − baseline ${f2(a.value)}` : `density ×${f2(a.value)}`
  console.log(`  ${a.requestedName} ← ${a.contextName}: ${what} (${Math.round(100 * level)}% CI ${f2(a.ci[0])}–${f2(a.ci[1])}); ${evidenceText(a.evidence)}`)
  if (a.examples.length) console.log(`      examples: ${a.examples.map((e) => exampleLabel(e)).join('; ')}`)
}

function printStats(s: AuditStats): void {
  const banner = partialText(s)
  if (banner) console.log(`${banner}\n`)
  const which = s.options.includeUnrecovered ? 'all explanations, recovered or not' : 'recovered explanations only (--include-unrecovered to count all)'
  console.log(
    `Audit job #${s.jobId}: ${s.method} explanations, ${evidenceText(s.evidence)}; counted: ${which} (contour baseline radius ${s.options.contourRadius} px; context ${s.options.context})`
  )
  for (const r of s.perClass) {
    const own = s.options.context === 'outside-object' ? `; ${f2(r.objectShare)} of the saliency outside the requests lies on the requested objects themselves` : ''
    console.log(`\n${r.name}: ${evidenceText(r.evidence)}${own}`)
    if (r.explanations === 0) continue
    const rows = [...r.context].sort((a, b) => b.share - a.share)
    console.log(
      table([
        ['context', 'share', 'baseline', 'lift', 'density', 'density ×'],
        ...rows.map((c) => [c.name, f2(c.share), f2(c.baselineShare), f2(c.lift), f2(c.density), f2(c.densityRatio)])
      ])
    )
  }
  if (s.table1.length) {
    const ids = Object.keys(s.table1[0].shares)
    const names = ids.map((id) => s.classes.find((c) => String(c.id) === id)?.name ?? id)
    const head = ['GT', 'prediction', 'n', 'images', 'recovered', ...names]
    const lead = (t: AuditStats['table1'][number]) => [t.gtName, t.predName, t.explanations, t.evidence.images, t.evidence.recoveryRate === null ? '-' : percent(t.evidence.recoveryRate, 0)]
    console.log('\nCorrect vs misclassified (Table 1): saliency share of each GT context class')
    console.log(table([head, ...s.table1.map((t) => [...lead(t), ...ids.map((k) => f2(t.shares[k]))])]))
    // Shares favour large classes; density (mean saliency per pixel) shows a small decisive object.
    console.log('\nCorrect vs misclassified: saliency density (mean saliency per context pixel) of each GT context class')
    console.log(table([head, ...s.table1.map((t) => [...lead(t), ...ids.map((k) => f2(t.densities[k]))])]))
  }
  console.log(s.alerts.length ? '\nBias alerts' : '\nNo bias alerts')
  for (const a of rankAlerts(s.alerts)) printAlert(a, s.options.level)
  if (s.insufficient.length) {
    console.log(`\nInsufficient evidence (fewer than ${s.options.minExplanations} explanations or ${s.options.minImages} images): not alerts`)
    for (const a of rankAlerts(s.insufficient)) printAlert(a, s.options.level)
  }
}

export function registerStats(program: Command, run: CommandContext): void {
  const command = program
    .command('stats')
    .description('Context statistics of an audit: Fig. 6 shares vs. contour baseline, density and lift, Table 1, bias alerts')
    .requiredOption('--project <file>', 'the project file', pathArg)
    .option('--job <id>', 'audit job (default: the latest)', positiveInt)
  addStatsOptions(command)
    .option('--json', 'print the statistics as JSON')
    .option('--csv', 'print the statistics as CSV')
    .option('--out <file>', 'write the JSON or CSV to a file instead of stdout', pathArg)
    .option('--force', 'replace --out if it exists')
    .action(
      (opts: StatsCliOptions & { project: string; job?: number; json?: boolean; csv?: boolean; out?: string; force?: boolean }) =>
        run(opts, async (session) => {
          await session.openProject(opts.project)
          const input = { ...(opts.job ? { jobId: opts.job } : {}), ...statsInput(opts) }
          const format = opts.csv ? 'csv' : opts.json ? 'json' : null
          // The service writes the file, so the CLI refuses to replace one exactly as every other caller does.
          if (opts.out && format) {
            const written = await session.call('audit:exportStats', { ...input, format, path: opts.out, overwrite: opts.force ?? false })
            return void process.stderr.write(`Wrote ${written.path} (${written.bytes} bytes)\n`)
          }
          if (format) return void process.stdout.write((await session.call('audit:formatStats', { ...input, format })).text)
          printStats(await session.call('audit:stats', input))
        })
    )
}
