import { parseArgs } from 'node:util'
import { startHttpServer } from './adapters/http'
import { announceBundledWorkerEntry, builtRendererDir } from './paths'
import { ServiceContext } from './services/context'
import { createDispatch } from './services/dispatch'
import { createServices } from './services/index'
import { openOrCreateProject, openStartupProject } from './startup'

/** Browser mode: `npm run serve`. The same services as the Electron window, over HTTP/WebSocket on 127.0.0.1. */
async function main(): Promise<void> {
  announceBundledWorkerEntry()
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      project: { type: 'string' },
      backend: { type: 'string' },
      renderer: { type: 'string' },
      demo: { type: 'boolean', default: false }
    }
  })
  const ctx = new ServiceContext('http', { backend: values.backend })
  const dispatch = createDispatch(createServices(ctx))
  if (values.project) await openOrCreateProject(dispatch, values.project)
  // --demo: the demo project, built on first use as the desktop app's first start does.
  else if (values.demo) await openStartupProject(dispatch, ctx.events)
  const server = await startHttpServer({
    dispatch,
    events: ctx.events,
    rendererDir: values.renderer ?? builtRendererDir(),
    port: Number(values.port)
  })
  // Tests and scripts read this exact line.
  console.log(`Context Lens browser mode: ${server.url}`)
  const stop = async (): Promise<void> => {
    await server.close()
    ctx.dispose()
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
})
