import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'
import vue from '@vitejs/plugin-vue'

/**
 * Test files that take minutes, longest first. Vitest starts the files it has timed before longest first, but a
 * fresh clone (CI) has no timings, and then it starts the largest files first: the demo audit is a short file that
 * runs for minutes, and started last it would run alone while the other fork idles. Only an order: a file missing
 * here still runs, and a wrong guess costs time, never a result.
 */
const LONGEST = ['test/demo/demoAudit.test.ts', 'test/benchmark/quick.test.ts', 'test/badInput/corpus.test.ts', 'test/benchmark/quickD0T1.test.ts']

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const rank = (f: TestSpecification): number => {
      const i = LONGEST.findIndex((path) => f.moduleId.replaceAll('\\', '/').endsWith(path))
      return i < 0 ? LONGEST.length : i
    }
    // Array.prototype.sort is stable: the rest keep Vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b))
  }
}

// Unit and integration tests: main-side code under Node, renderer components under happy-dom.
export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: {
      '@common': resolve(import.meta.dirname, 'src/common'),
      '@main': resolve(import.meta.dirname, 'src/main'),
      '@renderer': resolve(import.meta.dirname, 'src/renderer/src')
    }
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    environment: 'node',
    setupFiles: ['test/helpers/quietTfjs.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One fork per core. Vitest's own default is cores - 1: on a two-core CI machine that is one fork, running
    // every file after the other. Measured on 20 mid-sized files, one fork kept ~1.3 cores busy on average, so
    // the second fork gains ~5-10 % there; it fills the gaps (setup, spawns, waits) rather than doubling speed.
    maxWorkers: availableParallelism(),
    sequence: { sequencer: LongestFirst }
  }
})
