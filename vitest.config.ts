import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

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
    pool: 'forks'
  }
})
