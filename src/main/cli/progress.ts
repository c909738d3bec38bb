import cliProgress from 'cli-progress'
import type { CliSession } from './session'

/**
 * Shows the session's task progress as a bar on stderr (stdout stays clean for --json) and turns Ctrl-C into a
 * cancel of the running task instead of killing the process mid-write.
 */
export async function withProgress<T>(session: CliSession, enabled: boolean, body: () => Promise<T>): Promise<T> {
  const bar = new cliProgress.SingleBar(
    { format: ' {label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}', stream: process.stderr, hideCursor: true, noTTYOutput: false },
    cliProgress.Presets.shades_classic
  )
  let started = false
  const unsubscribe = session.ctx.events.subscribe((e) => {
    if (!enabled || e.event !== 'task:progress' || e.payload.state !== 'running' || e.payload.total <= 0) return
    if (!started) {
      bar.start(e.payload.total, e.payload.done, { label: e.payload.label })
      started = true
    } else bar.update(e.payload.done, { label: e.payload.message ? `${e.payload.label} (${e.payload.message})` : e.payload.label })
  })
  const onSigint = (): void => {
    process.stderr.write('\nCancelling...\n')
    session.ctx.tasks.cancelAll()
  }
  process.on('SIGINT', onSigint)
  try {
    return await body()
  } finally {
    process.off('SIGINT', onSigint)
    unsubscribe()
    if (started) bar.stop()
  }
}
