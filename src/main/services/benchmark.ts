import { join, resolve } from 'node:path'
import type { benchmarkMethods } from '@common/methods/benchmark'
import { listPresets, parseBenchmarkConfig, presetConfig, readBenchmarkConfig, runBenchmark, withSanityCheck } from '../benchmark'
import { appHome } from '../paths'
import type { AreaServices } from './area'
import type { ServiceContext } from './context'

export function benchmarkServices(ctx: ServiceContext): AreaServices<typeof benchmarkMethods> {
  return {
    'benchmark:presets': async () => listPresets(),
    'benchmark:run': (input) =>
      ctx.tasks.run('benchmark', async (task) => {
        const parsed = input.preset
          ? presetConfig(input.preset)
          : input.configFile
            ? await readBenchmarkConfig(resolve(input.configFile))
            : parseBenchmarkConfig(input.config)
        const config = withSanityCheck(parsed, input.sanityCheck)
        const pool = await ctx.engine()
        return runBenchmark({
          pool,
          config,
          preset: input.preset ?? null,
          outRoot: resolve(input.outDir ?? join(appHome(), 'benchmark')),
          signal: task.signal,
          onProgress: (p) => task.progress(p.done, p.total, p.phase),
          log: (line) => ctx.events.emit('log', { level: 'info', message: `benchmark: ${line}`, time: new Date().toISOString() })
        })
      })
  }
}
