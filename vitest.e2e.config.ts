import { defineConfig } from 'vitest/config'

// End-to-end: the built app in browser mode, driven through Debian's Chromium. Run after `electron-vite build`.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false
  }
})
