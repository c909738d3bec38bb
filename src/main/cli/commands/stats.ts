import { writeFileSync } from 'node:fs'
import { Command } from 'commander'
import type { AuditStats } from '@common/audit'
import { statsToCsv } from '../../audit/export'
import { printJson, table } from '../output'
import type { CommandContext } from '../program'
import { positiveInt } from '../argParsers'
import { addStatsOptions, statsInput, type StatsCliOptions } from '../optionSets'

const f2 = (v: number | null): string => (v === null ? '-' : v.toFixed(2))

function printStats(s: AuditStats): void {
  console.log(
    `Audit job #${s.jobId}: ${s.explanations} ${s.method} explanations (contour baseline radius ${s.options.contourRadius} px; context ${s.options.context})`
  )
  for (const r of s.perClass) {
    const own = s.options.context === 'outside-object' ? `; ${f2(r.objectShare)} of the saliency outside the requests lies on the requested objects themselves` : ''
    console.log(`\n${r.name}: ${r.explanations} explanations over ${r.images} images${own}`)
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
    console.log('\nCorrect vs misclassified (Table 1): saliency share of each GT context class')
    console.log(table([['GT', 'prediction', 'n', ...names], ...s.table1.map((t) => [t.gtName, t.predName, t.explanations, ...ids.map((k) => f2(t.shares[k]))])]))
    // Shares favour large classes; density (mean saliency per pixel) shows a small decisive object.
    console.log('\nCorrect vs misclassified: saliency density (mean saliency per context pixel) of each GT context class')
    console.log(table([['GT', 'prediction', 'n', ...names], ...s.table1.map((t) => [t.gtName, t.predName, t.explanations, ...ids.map((k) => f2(t.densities[k]))])]))
  }
  console.log(s.alerts.length ? '\nBias alerts' : '\nNo bias alerts')
  for (const a of s.alerts) {
    const what = a.reason === 'share' ? `share − baseline ${f2(a.value)}` : `density ×${f2(a.value)}`
    console.log(
      `  ${a.requestedName} ← ${a.contextName}: ${what} (${Math.round(100 * s.options.level)}% CI ${f2(a.ci[0])}–${f2(a.ci[1])}); examples: ${a.examples.map((e) => `explanation ${e.explanationId}`).join(', ') || '-'}`
    )
  }
}

export function registerStats(program: Command, run: CommandContext): void {
  const command = program
    .command('stats')
    .description('Context statistics of an audit: Fig. 6 shares vs. contour baseline, density and lift, Table 1, bias alerts')
    .requiredOption('--project <file>', 'the project file')
    .option('--job <id>', 'audit job (default: the latest)', positiveInt)
  addStatsOptions(command)
    .option('--json', 'print the statistics as JSON')
    .option('--csv', 'print the statistics as CSV')
    .option('--out <file>', 'write the JSON or CSV to a file instead of stdout')
    .action(
      (opts: StatsCliOptions & { project: string; job?: number; json?: boolean; csv?: boolean; out?: string }) =>
        run(opts, async (session) => {
          await session.openProject(opts.project)
          const stats = await session.call('audit:stats', {
            ...(opts.job ? { jobId: opts.job } : {}),
            ...statsInput(opts)
          })
          const text = opts.csv ? statsToCsv(stats) : opts.json ? `${JSON.stringify(stats, null, 2)}\n` : null
          if (text === null) return printStats(stats)
          if (opts.out) writeFileSync(opts.out, text)
          else if (opts.json) printJson(stats)
          else process.stdout.write(text)
        })
    )
}
