import cliProgress from 'cli-progress'
import type { CliSession } from './session'

/**
 * Progress bars on stderr (stdout stays clean for --json): one per phase of a task (generate, import, predict,
 * explain) and one per stored job with its rate and ETA from job:progress. Ctrl-C cancels the running task instead
 * of killing the process mid-write; a job stopped that way is paused and `--resume` continues it.
 */
export async function withProgress<T>(session: CliSession, enabled: boolean, body: () => Promise<T>): Promise<T> {
  let bar: cliProgress.SingleBar | null = null
  let current = ''
  const show = (key: string, label: string, done: number, total: number, extra: { rate: string; eta: string }): void => {
    if (key !== current) {
      bar?.stop()
      bar = new cliProgress.SingleBar(
        { format: ' {label} [{bar}] {value}/{total} {rate}| ETA {eta}', stream: process.stderr, hideCursor: true, noTTYOutput: false },
        cliProgress.Presets.shades_classic
      )
      bar.start(total, done, { label, ...extra })
      current = key
    } else {
      bar!.setTotal(total)
      bar!.update(done, { label, ...extra })
    }
  }
  const unsubscribe = session.ctx.events.subscribe((e) => {
    if (!enabled) return
    if (e.event === 'job:progress') {
      const p = e.payload
      const name = `${p.kind ?? 'audit'} #${p.jobId}`
      // A job of long steps (a benchmark): a bar per step, with the step's own progress, as before it was a job.
      if (p.step) {
        if (p.state === 'running' && p.step.total > 0) show(`job:${p.jobId}:${p.step.label}`, `${name}: ${p.step.label}`, p.step.done, p.step.total, { rate: '', eta: '?' })
        return
      }
      show(`job:${p.jobId}`, `${name}${p.failed ? ` (${p.failed} failed)` : ''}`, p.done + p.failed, p.total, {
        rate: p.ratePerSecond ? `| ${p.ratePerSecond.toFixed(2)}/s ` : '',
        eta: p.etaSeconds !== null ? `${Math.round(p.etaSeconds)}s` : '?'
      })
    } else if (e.event === 'task:progress' && e.payload.state === 'running' && e.payload.total > 0) {
      const p = e.payload
      // A stored job's progress has its own bar, from job:progress.
      if (p.jobId !== undefined) return
      show(`task:${p.taskId}:${p.message ?? ''}`, p.message ? `${p.label}: ${p.message}` : p.label, p.done, p.total, { rate: '', eta: '' })
    }
  })
  const onSigint = (): void => {
    process.stderr.write('\nStopping (a job is paused and can be resumed)...\n')
    session.ctx.tasks.cancelAll()
  }
  process.on('SIGINT', onSigint)
  try {
    return await body()
  } finally {
    process.off('SIGINT', onSigint)
    unsubscribe()
    ;(bar as cliProgress.SingleBar | null)?.stop()
  }
}
